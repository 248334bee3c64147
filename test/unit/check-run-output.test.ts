import { test } from "node:test";
import assert from "node:assert/strict";
import {
  capLogTail,
  completionOutput,
  configAnnotations,
  configFailureOutput,
  MAX_OUTPUT_CHARS,
} from "../../src/checks/check-run-output.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError, type ConfigIssue } from "../../src/core/errors.js";

const PATH = ".github/kozmic.yml";

const HOSTILE = [
  "![x](https://evil.example/p.png)",
  "[click](https://evil.example)",
  "<img src=x>",
  "@octocat",
  "```",
];

/**
 * The Markdown with its fenced code blocks taken out, read line by line as CommonMark does
 * at the top level: a fence of N backticks closes only on a line of at least N backticks.
 */
function outsideFences(markdown: string): string {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split(/\r\n|\r|\n/)) {
    if (fence === undefined) {
      const open = /^ {0,3}(`{3,})[^`]*$/.exec(line);
      if (open) fence = open[1];
      else out.push(line);
    } else if (new RegExp(`^ {0,3}${fence}\`*[ \\t]*$`).test(line)) fence = undefined;
  }
  assert.equal(fence, undefined, "a code fence is left open");
  return out.join("\n");
}

function issuesOf(text: string): readonly ConfigIssue[] {
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues;
  }
  assert.fail("expected the configuration to be rejected");
}

test("the configuration check run shows names and keys from the file only as code", () => {
  const issues = issuesOf(`hooks:
  - name: "![x](https://evil.example/p.png)"
    image: node:20
    build: make
    "[click](https://evil.example)": 1
  - name: "<img src=x> @octocat"
    image: node:20
    build: make
  - name: "a \`\`\` b \`\`\`\` c"
    image: node:20
    build: make
"@octocat": 1
`);
  const { title, summary } = configFailureOutput(issues, PATH);
  assert.equal(title, "5 configuration errors");
  for (const hostile of HOSTILE) {
    assert.ok(summary.includes(hostile), `${hostile} is shown`);
    assert.ok(!outsideFences(summary).includes(hostile), `${hostile} is shown only as code`);
  }
  assert.equal(
    outsideFences(summary),
    "`.github/kozmic.yml` has 5 problems; no jobs ran. Fix them and push again.\n",
  );
});

test("a message cannot close the code block it is shown in, whatever its backticks and lines", () => {
  const issues: ConfigIssue[] = HOSTILE.map((hostile, i) => ({
    message: `unknown key "x"\n\`\`\`\n${hostile}\n\`\`\`\`\`\`\`\n\n# ${hostile}\n  \`\`\`\`\`\`\`\`\`\`  `,
    path: ["hooks", i, "x"],
    line: i + 2,
  }));
  const { summary } = configFailureOutput(issues, PATH);
  const outside = outsideFences(summary);
  for (const hostile of HOSTILE) assert.ok(!outside.includes(hostile), hostile);
  assert.match(summary, /^`{11}text$/m, "the fence is longer than any backtick run");
});

test("each problem is one file:line:column line of the code block", () => {
  const summary = configFailureOutput(
    [
      { message: 'hook "test": missing required key "build"', path: ["hooks", 0], line: 2 },
      { message: "hooks[1].image: expected a string", path: [], line: 7, column: 12 },
      { message: "the file is empty", path: [] },
    ],
    PATH,
  ).summary;
  assert.equal(
    summary,
    "`.github/kozmic.yml` has 3 problems; no jobs ran. Fix them and push again.\n\n" +
      "```text\n" +
      '.github/kozmic.yml:2:1: hook "test": missing required key "build"\n' +
      ".github/kozmic.yml:7:12: hooks[1].image: expected a string\n" +
      ".github/kozmic.yml: the file is empty\n" +
      "```",
  );
});

test("huge messages and many problems stay within GitHub's limits, still fenced", () => {
  const huge = "`".repeat(70_000);
  const issues: ConfigIssue[] = Array.from({ length: 300 }, (_, i) => ({
    message: `unknown key "${huge}" ![x](https://evil.example/${i}.png)`,
    path: ["hooks", i],
    line: i + 1,
  }));
  const { summary } = configFailureOutput(issues, PATH);
  assert.ok(summary.length <= MAX_OUTPUT_CHARS, `${summary.length} characters`);
  const outside = outsideFences(summary);
  assert.doesNotMatch(outside, /evil/);
  assert.match(outside, /… and \d+ more, each annotated on its line\.$/);
  for (const annotation of configAnnotations(issues, PATH)) {
    assert.ok(annotation.message.length <= 1000, `${annotation.message.length} characters`);
    assert.ok(annotation.message.endsWith("…"));
  }
});

test("the summary lists the sections the runner recorded, as text, an unended one with the job", () => {
  const { summary } = completionOutput({
    conclusion: "failure",
    exitCode: 3,
    logUrl: "https://kozmic.test/jobs/j",
    sections: [
      {
        jobId: "j",
        name: "install",
        title: "Install: cache miss (changed: [x](https://evil.test) `a`)",
        startSeq: 1,
        startedAt: 1000,
        endSeq: 2,
        endedAt: 4000,
        conclusion: "success",
      },
      { jobId: "j", name: "build", title: "Build", startSeq: 2, startedAt: 4000 },
    ],
  });
  const block = /^(`{3,})text\n([\s\S]*?)\n\1$/m.exec(summary);
  assert.ok(block, summary);
  assert.deepEqual(block[2]!.split("\n"), [
    "install   succeeded 3s      Install: cache miss (changed: [x](https://evil.test) `a`)",
    "build     failed            Build",
  ]);
});

test("the check run's text is plain and cut at a line, whatever the output did to a terminal", () => {
  const log =
    "\x1b[1;32mPASSED\x1b[0m a\r\n" +
    "line of output\n".repeat(8000) +
    "50%\r100%\n\x1b]0;title\x07last ``` line\n";
  const text = capLogTail(log, 20_000);
  assert.ok(text.length <= 20_000);
  assert.ok(!text.includes("\x1b") && !text.includes("\r"), "no escape or carriage return");
  const block = /^(`{4,})text\n([\s\S]*)\n\1$/.exec(text);
  assert.ok(block, "one code block the log's backticks cannot close");
  const lines = block[2]!.split("\n");
  assert.match(lines[0]!, /earlier output cut/);
  assert.ok(
    lines.slice(1, -2).every((l) => l === "line of output"),
    "no line is cut in two",
  );
  assert.deepEqual(lines.slice(-2), ["100%", "last ``` line"]);
  assert.match(capLogTail("\x1b[31mred\x1b[0m\n"), /^```text\nred\n```$/);
});

test("a failed job's summary shows the end of the section that failed, as text", () => {
  const { summary } = completionOutput({
    conclusion: "failure",
    exitCode: 1,
    logUrl: "https://kozmic.test/jobs/1",
    failure: { section: "Build", lines: "E   assert 1 == 2\n[link](https://evil.example)" },
  });
  assert.match(
    summary,
    /The end of Build:\n```text\nE {3}assert 1 == 2\n\[link\]\(https:\/\/evil\.example\)\n```/,
  );
});
