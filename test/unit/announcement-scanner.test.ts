import { test } from "node:test";
import assert from "node:assert/strict";
import { AnnouncementScanner } from "../../runner/pipeline/announcement-scanner.js";
import { stepHelper } from "../../runner/pipeline/step-helper.js";

const TOKEN = "kozmic-step-0123456789abcdef";

function scan(chunks: string[]): { text: string; codes: number[]; textAtAnnouncement: string } {
  let text = "";
  const codes: number[] = [];
  let textAtAnnouncement = "";
  const scanner = new AnnouncementScanner(
    TOKEN,
    (t) => void (text += t),
    (code) => {
      codes.push(code);
      textAtAnnouncement = text;
    },
  );
  for (const chunk of chunks) scanner.write(chunk);
  scanner.end();
  return { text, codes, textAtAnnouncement };
}

test("the announcement is taken out of the output, however the output is cut", () => {
  const whole = `installing\ndone\n${TOKEN} 0\nbuilding\n`;
  for (let cut = 0; cut <= whole.length; cut++) {
    for (let cut2 = cut; cut2 <= whole.length; cut2 += 7) {
      const result = scan([whole.slice(0, cut), whole.slice(cut, cut2), whole.slice(cut2)]);
      assert.equal(result.text, "installing\ndone\nbuilding\n", `cut at ${cut}, ${cut2}`);
      assert.deepEqual(result.codes, [0]);
      assert.equal(result.textAtAnnouncement, "installing\ndone\n");
    }
  }
  const bytewise = scan([...whole]);
  assert.equal(bytewise.text, "installing\ndone\nbuilding\n");
});

test("the first script's exit code is what the announcement says; a damaged one reads as 125", () => {
  assert.deepEqual(scan([`x\n${TOKEN} 3\n`]).codes, [3]);
  assert.deepEqual(scan([`${TOKEN} nonsense\n`]).codes, [125]);
});

test("output that only looks like the start of the token is passed on, and nothing is lost at the end", () => {
  const lookalike = `${TOKEN.slice(0, 20)}-not-it\nkozmic-step-\n${TOKEN.slice(0, 5)}`;
  const result = scan([lookalike.slice(0, 15), lookalike.slice(15)]);
  assert.equal(result.text, lookalike);
  assert.deepEqual(result.codes, []);
});

test("only the first announcement counts: later output is the second script's, passed as is", () => {
  const result = scan([`${TOKEN} 0\n`, `${TOKEN} 1\n`]);
  assert.deepEqual(result.codes, [0]);
  assert.equal(result.text, `${TOKEN} 1\n`);
});

test("the helper announces with its token only when a second script follows", () => {
  const plain = stepHelper("make", ["API_TOKEN"]);
  assert.doesNotMatch(plain, /kozmic-step-|kill -KILL|next\.sh/);
  assert.match(plain, /^exec '\/bin\/sh' '-e' \/kozmic\/script\.sh 2>&1$/m);
  const twice = stepHelper("pip install x", [], { script: "#!/bin/bash -eu\nmake", token: TOKEN });
  assert.ok(twice.includes(`printf '%s %s\\n' '${TOKEN}' "$code"\n`), twice);
  assert.match(twice, /^kill -KILL -1 2>\/dev\/null$/m);
  assert.match(twice, /^exec '\/bin\/bash' '-eu' \/kozmic\/next\.sh <\/dev\/null 2>&1$/m);
});
