import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describeTestCounts } from "../../src/core/test-reports/describe-test-counts.js";
import { failedTestAnnotation } from "../../src/core/test-reports/failed-test-annotation.js";
import { readJUnit, XmlError } from "../../src/core/test-reports/read-junit.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/junit/${name}`, import.meta.url), "utf8");

/** The files of the repositories the fixtures were generated from. */
const repository = new Set([
  "tests/test_calc.py",
  "src/test/java/com/example/CalcTest.java",
  "src/main/java/com/example/Calc.java",
  "calc_test.go",
  "test/calc.test.js",
]);
const isFile = (path: string) => repository.has(path);

function annotate(name: string, reportPath = `reports/${name}`) {
  const report = readJUnit(fixture(name));
  return {
    counts: { tests: report.tests, failed: report.failed, skipped: report.skipped },
    annotations: report.failures.map((t) => failedTestAnnotation(t, reportPath, isFile)),
  };
}

test("pytest xunit1: counts, and each failure at the line that failed (its line attribute is 0-based)", () => {
  const { counts, annotations } = annotate("pytest-xunit1.xml");
  assert.deepEqual(counts, { tests: 6, failed: 3, skipped: 1 });
  assert.deepEqual(
    annotations.map((a) => [a.path, a.startLine, a.title]),
    [
      ["tests/test_calc.py", 13, "tests.test_calc.test_add_negative"],
      ["tests/test_calc.py", 18, "tests.test_calc.test_uses_broken_fixture"],
      ["tests/test_calc.py", 35, "tests.test_calc.TestText.test_escape"],
    ],
  );
  const first = annotations[0]!;
  assert.equal(first.level, "failure");
  assert.match(first.message, /^AssertionError: adding negatives\nassert -2 == -3/);
  assert.match(first.message, /E {7}AssertionError: adding negatives/);
  // Character references and the predefined entities are decoded once.
  assert.match(annotations[2]!.message, /assert '<tag> & "quote"' == 'plain'/);
});

test("pytest xunit2 (no file attributes): the traceback's path:line", () => {
  const { counts, annotations } = annotate("pytest-xunit2.xml");
  assert.deepEqual(counts, { tests: 6, failed: 3, skipped: 1 });
  assert.deepEqual(
    annotations.map((a) => [a.path, a.startLine]),
    [
      ["tests/test_calc.py", 13],
      ["tests/test_calc.py", 18],
      ["tests/test_calc.py", 35],
    ],
  );
});

test("Maven Surefire: a stack frame of the test's class is found under the module's source roots", () => {
  const { counts, annotations } = annotate(
    "surefire-TEST-com.example.CalcTest.xml",
    "target/surefire-reports/TEST-com.example.CalcTest.xml",
  );
  assert.deepEqual(counts, { tests: 4, failed: 2, skipped: 1 });
  assert.deepEqual(
    annotations.map((a) => [a.title, a.path, a.startLine]),
    [
      ["com.example.CalcTest.dividesByZero", "src/main/java/com/example/Calc.java", 9],
      ["com.example.CalcTest.addsNegatives", "src/test/java/com/example/CalcTest.java", 16],
    ],
  );
  // The text starts with the exception and its message: said once.
  assert.match(
    annotations[1]!.message,
    /^org\.opentest4j\.AssertionFailedError: adding negatives ==> expected: <-3> but was: <-2>\n\tat /,
  );
});

test("go-junit-report (CDATA) and Node's junit reporter (/kozmic/src paths)", () => {
  const go = annotate("go-junit-report.xml");
  assert.deepEqual(go.counts, { tests: 3, failed: 1, skipped: 1 });
  assert.deepEqual(
    go.annotations.map((a) => [a.path, a.startLine, a.title, a.message]),
    [
      [
        "calc_test.go",
        13,
        "example.com/calc.TestAddNegative",
        "Failed\ncalc_test.go:13: Add(-1, -1) = -2, want -3",
      ],
    ],
  );
  const node = annotate("node-test.xml");
  assert.deepEqual(node.counts, { tests: 3, failed: 1, skipped: 1 });
  assert.deepEqual(
    node.annotations.map((a) => [a.path, a.startLine, a.title]),
    [["test/calc.test.js", 9, "test.adds negatives"]],
  );
});

test("a failure naming no file of the repository is annotated on the report, line 1", () => {
  const report = readJUnit(
    `<testsuite><testcase name="t" file="../../etc/passwd" line="3"><failure message="boom">at /etc/x.py:4\nat lib/vendor.py:7</failure></testcase></testsuite>`,
  );
  assert.deepEqual(failedTestAnnotation(report.failures[0]!, "out/junit.xml", isFile), {
    level: "failure",
    path: "out/junit.xml",
    startLine: 1,
    endLine: 1,
    title: "t",
    message: "boom\nat /etc/x.py:4\nat lib/vendor.py:7",
  });
});

test("PHPUnit-style file and line attributes (absolute under /kozmic/src) are taken as they are", () => {
  const report = readJUnit(
    `<?xml version="1.0"?><testsuites><testsuite name="s"><testsuite name="nested">` +
      `<testcase name="testAdd" class="CalcTest" classname="CalcTest" file="/kozmic/src/tests/test_calc.py" line="21"><failure type="x">Failed asserting that 2 is 3.</failure></testcase>` +
      `</testsuite></testsuite></testsuites>`,
  );
  assert.deepEqual(report.failed, 1, "nested suites count their testcases once");
  const a = failedTestAnnotation(report.failures[0]!, "junit.xml", isFile);
  assert.deepEqual(
    [a.path, a.startLine, a.message],
    ["tests/test_calc.py", 21, "Failed asserting that 2 is 3."],
  );
});

test("hostile and malformed XML is refused with why, and nothing is expanded", () => {
  const laughs =
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
    `<testsuite><testcase name="&lol2;"/></testsuite>`;
  assert.throws(() => readJUnit(laughs), /declares a document type/);
  const external = `<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite>&x;</testsuite>`;
  assert.throws(() => readJUnit(external), /declares a document type/);
  assert.equal(
    readJUnit(`<testsuite><testcase name="&x;"><failure/></testcase></testsuite>`).failures[0]!
      .name,
    "&x;",
    "an entity XML does not define stays as it is written",
  );
  assert.throws(
    () => readJUnit(`<testsuite><testcase name="a">`),
    /ends inside <testcase> \(cut short\?\)/,
  );
  assert.throws(() => readJUnit(`<testsuite></testcase>`), /instead of closing tag 'testcase'/);
  assert.throws(() => readJUnit(`<html><body/></html>`), /its root is <html>/);
  assert.throws(() => readJUnit(``), /holds no XML element/);
  assert.throws(() => readJUnit(`not xml at all`), /holds no XML element/);
  assert.throws(
    () => readJUnit(`<testsuite>${"<b>".repeat(300)}${"</b>".repeat(300)}</testsuite>`),
    /nest deeper than 256/,
  );
  assert.throws(() => readJUnit(`<testsuite a="1" a="2"/>`), /Attribute 'a' is repeated/);
  assert.throws(() => readJUnit(`<testsuite/><testsuite/>`), XmlError);
});

test("a report with 10,000 failures counts them all and keeps the first 200", () => {
  const cases = Array.from(
    { length: 10_000 },
    (_, i) =>
      `<testcase name="t${i}"><failure message="m${i}">${"x".repeat(100)}</failure></testcase>`,
  ).join("");
  const report = readJUnit(`<testsuite>${cases}<testcase name="ok"/></testsuite>`);
  assert.deepEqual([report.tests, report.failed, report.failures.length], [10_001, 10_000, 200]);
});

test("counts read as people say them", () => {
  assert.equal(
    describeTestCounts({ tests: 212, failed: 3, skipped: 4 }),
    "212 tests: 3 failed, 4 skipped",
  );
  assert.equal(describeTestCounts({ tests: 1, failed: 0, skipped: 0 }), "1 test: all passed");
  assert.equal(describeTestCounts({ tests: 5, failed: 0, skipped: 2 }), "5 tests: 2 skipped");
  assert.equal(describeTestCounts({ tests: 0, failed: 0, skipped: 0 }), "no tests");
});
