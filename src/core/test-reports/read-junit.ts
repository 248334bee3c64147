import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { TestCounts } from "../build-records.js";

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

/** A report refused, with why in words a log line can carry. */
export class XmlError extends Error {
  override name = "XmlError";
}

/** Deeper nesting is refused: no test report comes near it. */
const MAX_DEPTH = 256;

/** One node as the parser keeps them in order: an element (its name, children, attributes) or text. */
type XmlNode = { [name: string]: XmlNode[] | string } & { ":@"?: Record<string, string> };
interface Element {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: true,
  maxNestedTags: MAX_DEPTH,
});

/**
 * Counts and failed tests of a JUnit XML report, the format pytest (`--junitxml`, xunit1
 * and xunit2), Maven Surefire/Failsafe, Gradle, jest-junit, go-junit-report, PHPUnit and
 * Node's test runner write: `<testsuites>`/`<testsuite>` holding `<testcase>`s, each with a
 * `<failure>`, `<error>` or `<skipped>` when it did not pass. Tests are counted from their
 * testcases, never from the suites' attributes (nested suites would count them twice).
 * Throws XmlError, with why, for anything else.
 */
export function readJUnit(xml: string): JUnitReport {
  const [root, second] = elementsOf(parseXml(xml));
  if (!root) throw new XmlError("it holds no XML element");
  if (second) throw new XmlError(`a second root element, <${second.name}>`);
  if (root.name !== "testsuites" && root.name !== "testsuite")
    throw new XmlError(`its root is <${root.name}>, not <testsuites> or <testsuite>`);
  const report: JUnitReport = { tests: 0, failed: 0, skipped: 0, failures: [] };
  const visit = (element: Element, testcase: Element | undefined): void => {
    if (element.name !== "testcase") {
      for (const child of elementsOf(element.children)) visit(child, testcase);
      return;
    }
    if (testcase) throw new XmlError("a <testcase> inside a <testcase>");
    const outcome = outcomeOf(element);
    report.tests++;
    if (outcome === "skipped") report.skipped++;
    else if (outcome) {
      report.failed++;
      if (report.failures.length < MAX_FAILED_TESTS) report.failures.push(outcome);
    }
    for (const child of elementsOf(element.children)) visit(child, element);
  };
  visit(root, undefined);
  return report;
}

/** The testcase's first `<failure>` or `<error>`, else whether it was skipped. */
function outcomeOf(testcase: Element): FailedTest | "skipped" | undefined {
  const inside = (element: Element): Element[] =>
    elementsOf(element.children).flatMap((child) => [child, ...inside(child)]);
  const all = inside(testcase);
  const failed = all.find((e) => e.name === "failure" || e.name === "error");
  if (!failed) return all.some((e) => e.name === "skipped") ? "skipped" : undefined;
  const { name, classname, file, line } = testcase.attributes;
  return {
    name: name ?? "",
    ...(classname ? { classname } : {}),
    ...(file ? { file } : {}),
    ...lineOf(line),
    kind: failed.name as FailedTest["kind"],
    message: failed.attributes.message ?? "",
    text: textOf(failed.children).slice(0, MAX_TEXT_CHARS).trim(),
  };
}

/**
 * The document's nodes. A document type declaration is refused, so no entity is ever
 * expanded (no "billion laughs") and nothing outside the document is read (no external entity).
 */
function parseXml(xml: string): XmlNode[] {
  if (declaresType(xml))
    throw new XmlError(
      "it declares a document type; test reports have none, and its entities are never expanded",
    );
  if (!/<[A-Za-z_:]/.test(xml)) throw new XmlError("it holds no XML element");
  const valid = XMLValidator.validate(xml);
  // The validator names every open element of a document cut short: `Invalid '[ "a", "b"]'`.
  const open = valid === true ? null : /^Invalid '\[.*"([^"]*)"\]' found/.exec(valid.err.msg);
  if (open) throw new XmlError(`it ends inside <${open[1]}> (cut short?)`);
  if (valid !== true) throw new XmlError(`${valid.err.msg} (line ${valid.err.line})`);
  try {
    return parser.parse(xml) as XmlNode[];
  } catch (error) {
    if (/nested tags/i.test((error as Error).message))
      throw new XmlError(`elements nest deeper than ${MAX_DEPTH}`);
    throw new XmlError((error as Error).message);
  }
}

/** A `<!` that opens neither a comment nor CDATA (either may hold `<!` as text). */
function declaresType(xml: string): boolean {
  for (let at = xml.indexOf("<!"); at !== -1; at = xml.indexOf("<!", at)) {
    const close = xml.startsWith("<!--", at)
      ? "-->"
      : xml.startsWith("<![CDATA[", at)
        ? "]]>"
        : undefined;
    if (!close) return true;
    at = xml.indexOf(close, at);
    if (at === -1) return false;
  }
  return false;
}

function elementsOf(nodes: XmlNode[]): Element[] {
  return nodes.flatMap((node) => {
    const name = Object.keys(node).find((key) => key !== ":@")!;
    if (name.startsWith("#") || name.startsWith("?")) return [];
    return [{ name, attributes: node[":@"] ?? {}, children: node[name] as XmlNode[] }];
  });
}

/** An element's text, CDATA and nested elements' text included. */
function textOf(nodes: XmlNode[]): string {
  return nodes
    .map((node) =>
      typeof node["#text"] === "string"
        ? node["#text"]
        : textOf(elementsOf([node])[0]?.children ?? []),
    )
    .join("");
}

function lineOf(value: string | undefined): { line?: number } {
  const line = Number(value);
  return value !== undefined && Number.isInteger(line) && line >= 0 ? { line } : {};
}
