// What a line of a job's output is, read from its plain text (no colours, see plainLogText):
// an error worth emphasising, or a user group marker. Pure.

/** A user group marker: GitHub's `::group::`/`::endgroup::`, Buildkite's `---`/`+++`/`~~~`. */
export type GroupMarker = { kind: "open"; title: string; folded: boolean } | { kind: "close" };

const ERROR_PATTERNS: readonly RegExp[] = [
  // error: …, error[E0308]: …, fatal: …, panic: …, ERROR …, FATAL …
  /^\s*(?:error|fatal|panic)(?:\[[^\]]*\])?\s*:/i,
  /\b(?:ERROR|FATAL|FAILED|FAILURE)\b/,
  // Compilers and tools: `main.c:3:5: error: …`, `a.ts(1,2): error TS2322: …`
  /:\s*(?:fatal )?error\b/i,
  /\berror TS\d+/,
  // TypeError: …, AssertionError: …, Error: … (a word ending in Error, then a colon)
  /\b[A-Za-z]*(?:Error|Exception):(?:\s|$)/,
  /^Traceback \(most recent call last\)/,
  /^\s*(?:FAIL|not ok)\s/,
  /^npm (?:ERR!|error)/,
  /^(?:g?make)(?:\[\d+\])?: \*\*\*/,
  /\bexit(?:ed with)? (?:code|status) [1-9]\d*/i,
  /\b[1-9]\d* (?:failed|failures?|errors?)\b/,
  /\b(?:Segmentation fault|command not found|Killed)\b/,
];

// Cheap tests on a line's raw text (colours and all) that most lines fail: only a line that
// passes is made plain and looked at closely. Reading a 200,000-line log once depends on it.
const ERROR_HINT =
  /err|fail|fatal|panic|traceback|exit|not ok|killed|segmentation|not found|exception|\*\*\*/i;
// eslint-disable-next-line no-control-regex
const MARKER_HINT = /^(?:\x1b\[[0-9;]*m)*(?:::|---|\+\+\+|~~~)/;

/** False when the raw line (escapes and all) cannot be an error line. */
export function mayBeError(raw: string): boolean {
  return ERROR_HINT.test(raw);
}

/** False when the raw line (escapes and all) cannot be a group marker. */
export function mayBeMarker(raw: string): boolean {
  return MARKER_HINT.test(raw);
}

/**
 * Whether a line looks like an error a reader is looking for. A word "error" inside a file
 * or test name (`src/error.ts`, `test_error_paths PASSED`) does not count.
 */
export function isErrorLine(plain: string): boolean {
  return ERROR_PATTERNS.some((pattern) => pattern.test(plain));
}

// Lines that start like Buildkite's markers but are output: a unified diff's file lines and
// Go's test results (`--- FAIL: TestX`), which would otherwise fold away what failed.
const NOT_MARKERS = /^(?:---|\+\+\+) (?:[ab]\/|\/dev\/null|(?:FAIL|PASS|SKIP):)/;

/** The user group marker a line is, if any. */
export function groupMarker(plain: string): GroupMarker | undefined {
  if (plain.startsWith("::")) {
    if (plain.trimEnd() === "::endgroup::") return { kind: "close" };
    const open = /^::group::(.*)$/.exec(plain);
    if (open) return { kind: "open", title: open[1]!.trim() || "Group", folded: true };
    return undefined;
  }
  const buildkite = /^(---|\+\+\+|~~~) (.*\S.*)$/.exec(plain);
  if (!buildkite || NOT_MARKERS.test(plain)) return undefined;
  return { kind: "open", title: buildkite[2]!.trim(), folded: buildkite[1] !== "+++" };
}
