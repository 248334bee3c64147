import { posix } from "node:path";
import type { JobAnnotation } from "../build-records.js";
import type { FailedTest } from "./read-junit.js";

/** Where a step's scripts run: reports name files by their path there. */
const WORKDIR = "/kozmic/src/";
const MAX_MESSAGE_CHARS = 2000;
const MAX_TITLE_CHARS = 255;
/** Lines of a failure's text an annotation quotes after its message. */
const TEXT_LINES = 12;
/** `path:line` in a traceback, a Go or Node failure, or `(File.java:12)` in a Java stack. */
const PATH_LINE = /([^\s()'"<>:[\]]+\.[A-Za-z0-9]+):(\d+)/g;
/** Java's source roots, where `com.example.AppTest` is `com/example/AppTest.java`. */
const SOURCE_ROOTS = ["src/test/java/", "src/main/java/", "src/test/kotlin/", "src/main/kotlin/"];

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** A test's name as people look it up: the class or module, then the test. */
export function testTitle(test: Pick<FailedTest, "name" | "classname">): string {
  const { name, classname } = test;
  if (!classname || name.includes(classname)) return name || classname || "(unnamed test)";
  return `${classname}.${name}`;
}

/** A path a report names, relative to the repository; undefined when it is outside it. */
function repositoryPath(path: string): string | undefined {
  let p = path.startsWith(WORKDIR) ? path.slice(WORKDIR.length) : path;
  p = posix.normalize(p).replace(/^\.\//, "");
  if (p === "" || p === "." || p.startsWith("/") || p.split("/").includes("..")) return undefined;
  return p;
}

/**
 * A failed test as an annotation at the line that failed: the testcase's own `file` when the
 * failure's text names a line of it (pytest's `line` is the test's start, not the assertion),
 * else its `line`; else the first `path:line` of the text that is a file of the repository
 * (a Java stack frame of the test's class found under a source root); else the report file
 * itself, line 1. `isRepositoryFile` answers for paths relative to the repository.
 */
export function failedTestAnnotation(
  test: FailedTest,
  reportPath: string,
  isRepositoryFile: (path: string) => boolean,
): JobAnnotation {
  const text = `${test.message}\n${test.text}`;
  const mentioned = [...text.matchAll(PATH_LINE)].map((m) => ({
    raw: m[1]!,
    line: Number(m[2]),
  }));
  const own = test.file !== undefined ? repositoryPath(test.file) : undefined;
  const place = (own !== undefined && isRepositoryFile(own)
    ? (mentioned
        .filter((m) => repositoryPath(m.raw) === own && m.line > 0)
        .map((m) => ({ path: own, line: m.line }))[0] ?? {
        path: own,
        line: Math.max(1, test.line ?? 1),
      })
    : undefined) ??
    mentioned
      .map((m) => {
        const path = repositoryPath(m.raw);
        if (path !== undefined && m.line > 0 && isRepositoryFile(path))
          return { path, line: m.line };
        return javaSource(m.raw, m.line, test, reportPath, isRepositoryFile);
      })
      .find((p) => p !== undefined) ?? { path: reportPath, line: 1 };
  const head = test.message.trim();
  const body = test.text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .slice(0, TEXT_LINES);
  // Java's text starts with the exception and its message: the message once is enough.
  const repeats = head !== "" && body[0]?.includes(head.split("\n")[0]!) === true;
  const message = (repeats || head === "" ? body : [head, ...body]).join("\n");
  return {
    level: "failure",
    path: place.path,
    startLine: place.line,
    endLine: place.line,
    title: clip(testTitle(test), MAX_TITLE_CHARS),
    message: clip(message || `${test.kind} in ${testTitle(test)}`, MAX_MESSAGE_CHARS),
  };
}

/**
 * A Java frame's `File.java` of the test's own class, looked for under the source roots
 * beside the report's module (`module/target/surefire-reports/…` → `module/src/test/java`).
 */
function javaSource(
  file: string,
  line: number,
  test: FailedTest,
  reportPath: string,
  isRepositoryFile: (path: string) => boolean,
): { path: string; line: number } | undefined {
  if (!test.classname || file.includes("/") || line <= 0) return undefined;
  const dirs = test.classname.split(".").slice(0, -1).join("/");
  const module = /^(.*?\/)?(target|build)\//.exec(reportPath)?.[1] ?? "";
  for (const root of SOURCE_ROOTS) {
    const path = posix.join(module, root, dirs, file);
    if (repositoryPath(path) === path && isRepositoryFile(path)) return { path, line };
  }
  return undefined;
}
