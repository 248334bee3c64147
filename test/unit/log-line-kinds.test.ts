import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { groupMarker, isErrorLine } from "../../src/core/log-line-kinds.js";

describe("isErrorLine: lines a reader of a failed log is looking for", () => {
  it("emphasises what tools print when something failed", () => {
    for (const line of [
      "error: could not compile `app` due to previous error",
      "error[E0308]: mismatched types",
      "src/main.c:3:5: error: expected ';' before 'return'",
      "src/app.ts(10,3): error TS2322: Type 'string' is not assignable to type 'number'.",
      "Error: Cannot find module 'left-pad'",
      "TypeError: undefined is not a function",
      "AssertionError: expected 1 to equal 2",
      "java.lang.IllegalStateException: boom",
      "Traceback (most recent call last):",
      "panic: runtime error: index out of range [3] with length 3",
      "npm ERR! code ELIFECYCLE",
      'npm error Missing script: "test"',
      "[ERROR] Failed to execute goal org.apache.maven.plugins",
      "fatal: not a git repository (or any of the parent directories): .git",
      "FAILED tests/test_login.py::test_login - assert 1 == 2",
      "test_login FAILED",
      "FAIL src/app.test.js",
      "not ok 3 - adds numbers",
      "==> build exit code 1",
      "make: *** [Makefile:12: all] Error 2",
      "Process exited with code 137",
      "=== 2 failed, 14 passed in 1.20s ===",
      "sh: 1: pytest: command not found",
    ])
      assert.equal(isErrorLine(line), true, line);
  });

  it("leaves alone a word 'error' in names, and counts of none", () => {
    for (const line of [
      "",
      "compiling src/error.ts",
      "tests/test_error_paths.py::test_retry PASSED",
      "Collecting error-stack-parser==2.1.4",
      "0 errors, 0 warnings",
      "=== 14 passed, 0 failed in 1.20s ===",
      "no errors found",
      "==> build exit code 0",
      "  errorHandler: registered",
      "ERROR_COUNT=0",
    ])
      assert.equal(isErrorLine(line), false, line);
  });
});

describe("groupMarker: the user's own groups", () => {
  it("reads GitHub's ::group:: and ::endgroup:: and Buildkite's ---, +++ and ~~~", () => {
    assert.deepEqual(groupMarker("::group::Install dependencies"), {
      kind: "open",
      title: "Install dependencies",
      folded: true,
    });
    assert.deepEqual(groupMarker("::group::"), { kind: "open", title: "Group", folded: true });
    assert.deepEqual(groupMarker("::endgroup::"), { kind: "close" });
    assert.deepEqual(groupMarker("--- :rspec: Run specs"), {
      kind: "open",
      title: ":rspec: Run specs",
      folded: true,
    });
    assert.deepEqual(groupMarker("+++ Failures"), {
      kind: "open",
      title: "Failures",
      folded: false,
    });
    assert.deepEqual(groupMarker("~~~ Setup"), { kind: "open", title: "Setup", folded: true });
  });

  it("is not fooled by diffs, Go's test results or markers inside a line", () => {
    for (const line of [
      "--- a/src/app.ts",
      "+++ b/src/app.ts",
      "--- /dev/null",
      "--- FAIL: TestLogin (0.00s)",
      "--- PASS: TestLogout (0.00s)",
      "---",
      "--- ",
      "echo ::group::nested",
      " ::group::indented",
      "::error file=app.py,line=10::boom",
    ])
      assert.equal(groupMarker(line), undefined, line);
  });
});
