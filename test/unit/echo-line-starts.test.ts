import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { echoAtLineStarts, MAX_WAITING } from "../../runner/logs/echo-line-starts.js";
import { MASK, maskingSink, SecretMasker } from "../../runner/logs/secret-masker.js";
import { ECHO_END, ECHO_START } from "../../src/core/shell/echo-script.js";

const echo = (command: string) => `${ECHO_START}+ ${command}${ECHO_END}`;

/** What reaches the log of `pieces` written in turn, then the end of the step's output. */
function through(pieces: string[], secrets: string[] = []): string {
  let log = "";
  const store = { write: (text: string) => void (log += text), flush: async () => {} };
  const masked = maskingSink(store, new SecretMasker(secrets));
  const sink = echoAtLineStarts(masked);
  for (const piece of pieces) sink.write(piece);
  sink.end();
  masked.end();
  return log;
}

describe("echoes at line starts", () => {
  it("an echo at a line's start stays where it is", () => {
    const stream = [echo("make"), "compiling\n", echo("make test"), "ok\n"];
    assert.equal(through(stream), stream.join(""));
  });

  it("an echo in the middle of a line waits for the line's end, and the next echoes behind it", () => {
    assert.equal(
      through(["pieces: abc", echo("sleep 1"), echo("printf def"), "def\nnext\n", echo("true")]),
      `pieces: abcdef\n${echo("sleep 1")}${echo("printf def")}next\n${echo("true")}`,
    );
  });

  it("gives the same log whatever the writes' boundaries", () => {
    const stream = `half: 12${echo("sleep 1")}${echo("echo 34")}34\n${echo("done")}\x1b[2mdim\x1b[0m\n`;
    const whole = through([stream]);
    assert.equal(
      whole,
      `half: 1234\n${echo("sleep 1")}${echo("echo 34")}${echo("done")}\x1b[2mdim\x1b[0m\n`,
    );
    for (let i = 0; i <= stream.length; i++)
      assert.equal(through([stream.slice(0, i), stream.slice(i)]), whole, `split at ${i}`);
    assert.equal(through([...stream]), whole, "a character at a time");
  });

  it("a secret printed in two pieces by two commands is masked, the echo between them notwithstanding", () => {
    const token = "pypi-AgEIcHlwaS5vcmc-s3cr3t";
    const log = through(
      [
        "pieces: ",
        token.slice(0, 10),
        echo("sleep 0.3"),
        echo("printf rest"),
        token.slice(10) + "\n",
      ],
      [token],
    );
    assert.equal(log, `pieces: ${MASK}\n${echo("sleep 0.3")}${echo("printf rest")}`);
  });

  it("output ending in an open line: the waiting echo comes after a newline", () => {
    assert.equal(through(["no newline", echo("exit 1")]), `no newline\n${echo("exit 1")}`);
  });

  it("a program's own text that merely starts like an echo goes out as it came, in order", () => {
    const forged = `x${ECHO_START}` + "y".repeat(MAX_WAITING + 10) + "\nafter\n";
    assert.equal(through([forged.slice(0, 100), forged.slice(100)]), forged);
    assert.equal(through([`x${ECHO_START}never ended`]), `x\n${ECHO_START}never ended`);
  });
});
