import { formatConfigIssues } from "../core/config/format-config-issues.js";
import type { JobAnnotation, TestCounts } from "../core/build-records.js";
import type { JobConclusion } from "../core/job-state.js";
import { describeTestCounts } from "../core/test-reports/describe-test-counts.js";
import type { ConfigIssue } from "../core/errors.js";
import { plainLogText } from "../core/plain-log-text.js";
import type { LogSectionRecord } from "../store/port.js";

/** GitHub's limit on `output.text` and `output.summary`. */
export const MAX_OUTPUT_CHARS = 65_535;
/** GitHub accepts at most 50 annotations per request. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;

const TRUNCATED = "… (earlier output cut; the full log is on the job's page)\n";

/**
 * The end of a log as the check run's text: plain (no terminal escapes), in a code block no
 * line can close, cut from the front at a line boundary so it fits GitHub's output limit.
 */
export function capLogTail(log: string, max = MAX_OUTPUT_CHARS): string {
  const text = plainLogText(log).replace(/\n$/, "");
  if (codeBlock(text).length <= max) return codeBlock(text);
  // The whole text's fence is at least as long as any part's: room counted with it is enough.
  const fence = codeBlock(text).length - text.length;
  const room = max - fence - TRUNCATED.length;
  const kept = text.slice(text.length - room);
  const newline = kept.indexOf("\n");
  return codeBlock(TRUNCATED + (newline === -1 ? kept : kept.slice(newline + 1)));
}

/** Text in a fenced block that no line of it can close. */
function codeBlock(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export interface CompletionFacts {
  conclusion: JobConclusion;
  exitCode?: number;
  durations?: Partial<Record<"pull" | "install" | "build" | "total", number>>;
  cacheKey?: string;
  cacheHit?: boolean;
  /** On a miss: why the install was not cached. */
  cacheMissReasons?: readonly string[];
  logUrl: string;
  /** The log's sections as the runner recorded them (never read from the log's text). */
  sections?: readonly LogSectionRecord[];
  /** Why it was cancelled or timed out, in the user's words. */
  reason?: string;
  /** The last lines of the section that failed (plain text), for the summary. */
  failure?: { section: string; lines: string };
  /** What the job's workflow commands asked for (`::error file=…::…`), and its failed tests. */
  annotations?: readonly JobAnnotation[];
  /** What the hook's JUnit reports counted. */
  tests?: TestCounts;
}

const TITLES: Record<CompletionFacts["conclusion"], string> = {
  success: "Passed",
  failure: "Failed",
  timed_out: "Timed out",
  cancelled: "Cancelled",
  skipped: "Skipped",
};

/** Title and summary of a finished job: phase durations, cache, exit code, log link. */
export function completionOutput(facts: CompletionFacts): { title: string; summary: string } {
  const lines: string[] = [];
  let title = TITLES[facts.conclusion];
  if (facts.exitCode !== undefined && facts.conclusion === "failure") {
    title = `Failed with exit code ${facts.exitCode}`;
  }
  if (facts.tests) {
    const counts = describeTestCounts(facts.tests);
    title = `${title} · ${counts}`;
    const where = facts.tests.failed > 0 ? " (each failed test is annotated where it failed)" : "";
    lines.push(`**Tests:** ${counts}${where}`, "");
  }
  if (facts.reason) lines.push(facts.reason, "");
  if (facts.failure && facts.failure.lines.trim() !== "") {
    // The job's own output: a code block, where nothing it prints is Markdown or HTML.
    lines.push(`The end of ${facts.failure.section}:`, codeBlock(facts.failure.lines), "");
  }
  const d = facts.durations ?? {};
  const phases = (["pull", "install", "build", "total"] as const).filter((p) => d[p] !== undefined);
  if (phases.length > 0) {
    lines.push("| Phase | Time |", "| --- | --- |");
    for (const phase of phases) lines.push(`| ${phase} | ${formatSeconds(d[phase]!)} |`);
    lines.push("");
  }
  if (facts.cacheKey !== undefined) {
    const state = facts.cacheHit ? "hit" : "miss";
    lines.push(`Install cache: **${state}** (key \`${facts.cacheKey}\`)`);
    if (!facts.cacheHit && facts.cacheMissReasons?.length) {
      // File names come from the repository: shown as code, never as Markdown.
      lines.push("", "Why it missed:", codeBlock(facts.cacheMissReasons.join("\n")), "");
    }
  }
  if (facts.sections?.length) lines.push("", "Sections:", codeBlock(describeSections(facts)), "");
  if (facts.exitCode !== undefined) lines.push(`Exit code: ${facts.exitCode}`);
  lines.push(`[Full log](${facts.logUrl})`);
  return { title, summary: lines.join("\n") };
}

const SECTION_WORDS: Record<NonNullable<LogSectionRecord["conclusion"]>, string> = {
  success: "succeeded",
  failure: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
  timed_out: "timed out",
};

/** One line per section: its outcome (a section left open ended with the job), time, title. */
function describeSections(facts: CompletionFacts): string {
  return facts
    .sections!.map((section) => {
      const conclusion = section.conclusion ?? facts.conclusion;
      const time =
        section.endedAt !== undefined
          ? formatSeconds((section.endedAt - section.startedAt) / 1000)
          : "";
      return `${section.name.padEnd(9)} ${SECTION_WORDS[conclusion].padEnd(9)} ${time.padEnd(7)} ${section.title}`.trimEnd();
    })
    .join("\n");
}

/** Output of a job that Kozmic could not run: it says so and never blames the build. */
export function infrastructureFailureOutput(
  message: string,
  logUrl: string,
): { title: string; summary: string } {
  return {
    title: "Kozmic could not run this job (infrastructure problem)",
    summary:
      "This is not a result of your build: Kozmic's own infrastructure failed before the job " +
      "could finish, so the code was not judged.\n\n" +
      `Reason: ${message}\n\n` +
      `Use "Re-run" to try again. [Log so far](${logUrl})`,
  };
}

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "failure" | "warning" | "notice";
  title?: string;
  message: string;
}

/** A job's annotations as GitHub's Checks API takes them. */
export function jobAnnotations(annotations: readonly JobAnnotation[]): CheckAnnotation[] {
  return annotations.map((a) => ({
    path: a.path,
    start_line: a.startLine,
    end_line: a.endLine,
    ...(a.startColumn !== undefined ? { start_column: a.startColumn } : {}),
    ...(a.endColumn !== undefined ? { end_column: a.endColumn } : {}),
    annotation_level: a.level,
    ...(a.title !== undefined ? { title: a.title } : {}),
    message: a.message,
  }));
}

/**
 * Longest issue shown on the check run. Messages quote keys and names from the file, which
 * may be huge; GitHub refuses an annotation message over 64 KB.
 */
const MAX_ISSUE_CHARS = 1000;

function clip(text: string): string {
  return text.length > MAX_ISSUE_CHARS ? text.slice(0, MAX_ISSUE_CHARS - 1) + "…" : text;
}

/** One annotation per configuration problem, on its line of `.github/kozmic.yml`. */
export function configAnnotations(issues: readonly ConfigIssue[], path: string): CheckAnnotation[] {
  return issues.map((issue) => {
    const line = Math.max(1, issue.line ?? 1);
    // GitHub accepts columns only on single-line annotations.
    const column = issue.column !== undefined && issue.column > 0 ? issue.column : undefined;
    return {
      path,
      start_line: line,
      end_line: line,
      ...(column ? { start_column: column, end_column: column } : {}),
      annotation_level: "failure",
      title: "Invalid Kozmic configuration",
      message: clip(issue.message),
    };
  });
}

export function configFailureOutput(
  issues: readonly ConfigIssue[],
  path: string,
): { title: string; summary: string } {
  const n = issues.length;
  const head = `\`${path}\` has ${n} problem${n === 1 ? "" : "s"}; no jobs ran. Fix them and push again.`;
  // The file is the pull request's, a fork's too, and the messages quote its names, keys and
  // values: they go in one code block, where links, images, mentions and HTML stay text. A
  // block inside a list item would end at a less indented line, so it stays at the top level.
  const lines = issues.map((issue) => clip(formatConfigIssues([issue], path)));
  // Room for the head, the "more" line and two fences, each at most one longer than a line.
  let room = MAX_OUTPUT_CHARS - head.length - 200 - 2 * (MAX_ISSUE_CHARS + 2);
  let shown = 0;
  while (shown < lines.length && lines[shown]!.length + 1 <= room)
    room -= lines[shown++]!.length + 1;
  const parts = [head, "", codeBlock(lines.slice(0, shown).join("\n"))];
  if (shown < n) parts.push("", `… and ${n - shown} more, each annotated on its line.`);
  return {
    title: `${n} configuration error${n === 1 ? "" : "s"}`,
    summary: parts.join("\n"),
  };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
