import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, mock, test } from "node:test";
import { terminalSections } from "../../runner/logs/terminal-sections.js";
import { createTerminalSink } from "../../runner/logs/terminal-sink.js";
import { summaryLine } from "../../src/cli/run-summary.js";

/** A stream that keeps what was written, and a clock the test moves with the timers. */
function screen() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  let clock = 0;
  return {
    stream,
    now: () => clock,
    advance(ms: number) {
      clock += ms;
      mock.timers.tick(ms);
    },
    read: () => text,
  };
}

describe("kozmic run in a terminal", () => {
  test("a silent step shows how long it has been silent, redrawn in place, gone at the next output", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const s = screen();
      const sink = createTerminalSink(s.stream, { tty: true, now: s.now });
      sink.running("Install");
      s.advance(2_999);
      assert.equal(s.read(), "", "no status before 3 s of silence");
      s.advance(1);
      s.advance(1_000);
      assert.equal(
        s.read(),
        "\r\x1b[2K… Install: 3s without output\r\x1b[2K… Install: 4s without output",
      );
      sink.write("pip done\n");
      assert.ok(s.read().endsWith("output\r\x1b[2Kpip done\n"), "erased before the output");
      sink.running(undefined);
      s.advance(60_000);
      assert.ok(s.read().endsWith("pip done\n"), "nothing while no step runs");
    } finally {
      mock.timers.reset();
    }
  });

  test("on a pipe or in a file, one line per minute of silence and no escape codes", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const s = screen();
      const sink = createTerminalSink(s.stream, { tty: false, now: s.now });
      sink.running("Build");
      s.advance(30_000);
      sink.write("step 1\n");
      s.advance(60_000);
      s.advance(60_000);
      assert.equal(s.read(), "step 1\n… Build: 60s without output\n… Build: 120s without output\n");
    } finally {
      mock.timers.reset();
    }
  });

  test("on a pipe or in a file, colour codes are left out, also one split between two chunks", () => {
    const s = screen();
    const sink = createTerminalSink(s.stream, { tty: false, forceColor: false });
    // An echoed command (dim) and a test runner's red FAIL, cut mid-code by the stream.
    sink.write("\x1b[22;2m+ pytest -q\x1b[0m\n\x1b[3");
    sink.write("1mFAIL\x1b[0m test_x\n\x1b");
    sink.write("[0mdone\n");
    assert.equal(s.read(), "+ pytest -q\nFAIL test_x\ndone\n");
    const forced = screen();
    const coloured = createTerminalSink(forced.stream, { tty: false, forceColor: true });
    coloured.write("\x1b[31mFAIL\x1b[0m\n");
    assert.equal(forced.read(), "\x1b[31mFAIL\x1b[0m\n", "FORCE_COLOR keeps them");
    const terminal = screen();
    createTerminalSink(terminal.stream, { tty: true }).write("\x1b[31mFAIL\x1b[0m\n");
    assert.equal(terminal.read(), "\x1b[31mFAIL\x1b[0m\n", "a terminal gets its colours");
  });

  test("sections print a header as they start and their duration as they end", () => {
    let clock = 1_000;
    let out = "";
    const running: (string | undefined)[] = [];
    const sections = terminalSections(
      { write: (t) => void (out += t), flush: async () => {} },
      { running: (label) => void running.push(label) },
      () => clock,
    );
    sections.start("install", "Install: cache miss (tracked file changed: deps.txt)");
    clock += 3_400;
    sections.start("build", "Build");
    clock += 700;
    sections.end("failure");
    assert.equal(
      out,
      "\n▶ Install: cache miss (tracked file changed: deps.txt)\n✓ Install done in 3.4s\n" +
        "\n▶ Build\n✗ Build failed after 0.7s\n",
    );
    assert.deepEqual(running, ["Install", undefined, "Build", undefined]);
    sections.start("install", "Install skipped: cache hit 12cf282ea10b (local image)");
    sections.end("skipped");
    assert.ok(out.endsWith("– Install skipped\n"));
  });

  test("the summary says each hook's conclusion, time and what the install cache did", () => {
    const durations = { pull: 0, install: 3.14, build: 0.8, total: 4.02 };
    assert.equal(
      summaryLine("hello", { conclusion: "success", cacheHit: false, durations }),
      "hello: success in 4.0s (install: cache miss, 3.1s)",
    );
    assert.equal(
      summaryLine("hello", { conclusion: "failure", cacheHit: true, durations }),
      "hello: failure in 4.0s (install: cache hit)",
    );
    assert.equal(
      summaryLine("lint", { conclusion: "timed_out", durations }),
      "lint: timed out in 4.0s",
    );
  });
});
