import type { TestCounts } from "../build-records.js";
import { readXml, XmlError } from "./read-xml.js";

/** One test that failed (a `<failure>`) or broke (an `<error>`), as its report tells it. */
export interface FailedTest {
  name: string;
  classname?: string;
  /** The testcase's `file` and `line` attributes (pytest, PHPUnit), as written. */
  file?: string;
  line?: number;
  kind: "failure" | "error";
  /** The `message` attribute. */
  message: string;
  /** The element's text: a traceback, a diff, output. */
  text: string;
}

export interface JUnitReport extends TestCounts {
  /** The failed tests, in order, the first MAX_FAILED_TESTS of them. */
  failures: FailedTest[];
}

/** Failed tests a report keeps in full; past these only their count grows. */
export const MAX_FAILED_TESTS = 200;
/** A failure's text kept: its first lines are what an annotation shows. */
const MAX_TEXT_CHARS = 16_384;

/**
 * Counts and failed tests of a JUnit XML report, the format pytest (`--junitxml`, xunit1
 * and xunit2), Maven Surefire/Failsafe, Gradle, jest-junit, go-junit-report, PHPUnit and
 * Node's test runner write: `<testsuites>`/`<testsuite>` holding `<testcase>`s, each with a
 * `<failure>`, `<error>` or `<skipped>` when it did not pass. Tests are counted from their
 * testcases, never from the suites' attributes (nested suites would count them twice).
 * Throws XmlError, with why, for anything else.
 */
export function readJUnit(xml: string): JUnitReport {
  const report: JUnitReport = { tests: 0, failed: 0, skipped: 0, failures: [] };
  let depth = 0;
  let test: { attributes: Record<string, string>; outcome?: FailedTest | "skipped" } | undefined;
  let collecting: FailedTest | undefined;
  readXml(xml, {
    open(name, attributes) {
      depth++;
      if (depth === 1 && name !== "testsuites" && name !== "testsuite")
        throw new XmlError(`its root is <${name}>, not <testsuites> or <testsuite>`);
      if (name === "testcase") {
        if (test) throw new XmlError("a <testcase> inside a <testcase>");
        test = { attributes: { ...attributes } };
      }
      if (!test) return;
      if ((name === "failure" || name === "error") && typeof test.outcome !== "object") {
        collecting = {
          name: test.attributes.name ?? "",
          ...(test.attributes.classname ? { classname: test.attributes.classname } : {}),
          ...(test.attributes.file ? { file: test.attributes.file } : {}),
          ...lineOf(test.attributes.line),
          kind: name,
          message: attributes.message ?? "",
          text: "",
        };
        test.outcome = collecting;
      } else if (name === "skipped" && test.outcome === undefined) test.outcome = "skipped";
    },
    close(name) {
      depth--;
      if (name === "failure" || name === "error") collecting = undefined;
      if (name !== "testcase" || !test) return;
      report.tests++;
      if (test.outcome === "skipped") report.skipped++;
      else if (test.outcome) {
        report.failed++;
        const failed = test.outcome;
        failed.text = failed.text.trim();
        if (report.failures.length < MAX_FAILED_TESTS) report.failures.push(failed);
      }
      test = undefined;
    },
    text(text) {
      if (collecting && collecting.text.length < MAX_TEXT_CHARS)
        collecting.text += text.slice(0, MAX_TEXT_CHARS - collecting.text.length);
    },
  });
  return report;
}

function lineOf(value: string | undefined): { line?: number } {
  const line = Number(value);
  return value !== undefined && Number.isInteger(line) && line >= 0 ? { line } : {};
}
