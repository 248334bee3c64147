import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_JOB_ANNOTATIONS,
  parseWorkflowCommand,
  WorkflowCommands,
} from "../../runner/logs/workflow-commands.js";

test("GitHub's workflow commands become annotations; other lines do not", () => {
  assert.deepEqual(
    parseWorkflowCommand(
      "::error file=src/app.py,line=10,endLine=12,title=Type check::x is int%0Anot str",
    ),
    {
      level: "failure",
      path: "src/app.py",
      startLine: 10,
      endLine: 12,
      title: "Type check",
      message: "x is int\nnot str",
    },
  );
  assert.deepEqual(
    parseWorkflowCommand("::warning file=/kozmic/src/a.js,line=3,col=7,endColumn=9::shadowed"),
    {
      level: "warning",
      path: "a.js",
      startLine: 3,
      endLine: 3,
      startColumn: 7,
      endColumn: 9,
      message: "shadowed",
    },
  );
  assert.deepEqual(parseWorkflowCommand("\x1b[31m::notice title=a%2Cb%3Ac::100%25 done\x1b[0m"), {
    level: "notice",
    path: ".github",
    startLine: 1,
    endLine: 1,
    title: "a,b:c",
    message: "100% done",
  });
  for (const line of ["echo ::error::x", "::debug::x", "::error", "error::x", "::group::Build"])
    assert.equal(parseWorkflowCommand(line), undefined, line);
});

test("a path out of the repository is never annotated; huge messages are clipped", () => {
  for (const file of ["../../etc/passwd", "/etc/passwd", "a/../../b"]) {
    const a = parseWorkflowCommand(`::error file=${file},line=4,col=2::bad`)!;
    assert.deepEqual([a.path, a.startLine, a.startColumn], [".github", 1, undefined], file);
  }
  const long = parseWorkflowCommand(`::error::${"x".repeat(5000)}`)!;
  assert.equal(long.message.length, 1000);
});

test("the collector reads commands split across writes, and keeps at most its cap", () => {
  const commands = new WorkflowCommands();
  commands.write("ok\n::err");
  commands.write("or file=a.py,line=2::first\n");
  commands.write("::warning::last, no newline");
  assert.equal(commands.annotations.length, 1);
  assert.deepEqual(
    commands.end().map((a) => [a.level, a.message]),
    [
      ["failure", "first"],
      ["warning", "last, no newline"],
    ],
  );
  const many = new WorkflowCommands();
  many.write("::error::e\n".repeat(MAX_JOB_ANNOTATIONS + 50));
  assert.equal(many.end().length, MAX_JOB_ANNOTATIONS);
});
