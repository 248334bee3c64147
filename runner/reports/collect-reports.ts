import { posix } from "node:path";
import picomatch from "picomatch";
import type { Header } from "tar-stream";
import type { JobAnnotation, TestCounts } from "../../src/core/build-records.js";
import { describeTestCounts } from "../../src/core/test-reports/describe-test-counts.js";
import { failedTestAnnotation } from "../../src/core/test-reports/failed-test-annotation.js";
import { readJUnit } from "../../src/core/test-reports/read-junit.js";
import type { Engine } from "../engine/port.js";
import { MAX_JOB_ANNOTATIONS } from "../logs/workflow-commands.js";

/** What the hook's reports said: the counts, and an annotation per failed test (capped). */
export interface TestResults {
  counts: TestCounts;
  annotations: JobAnnotation[];
}

export interface ReportLimits {
  /** Report files read at most; more matching files are left out, with a warning. */
  maxFiles: number;
  /** Bytes of reports read at most, all files together; a file past them is left out. */
  maxBytes: number;
  /**
   * Bytes of other files passed over at most: reading stops there, so that a pattern over a
   * huge tree (every `.xml` file of it) cannot hold the runner long after the job's end.
   */
  maxScannedBytes: number;
}

export const REPORT_LIMITS: ReportLimits = {
  maxFiles: 100,
  maxBytes: 20 * 1024 ** 2,
  maxScannedBytes: 2 * 1024 ** 3,
};

/** A path as a log line shows it: control characters of a hostile name cannot act. */
const shown = (path: string) => JSON.stringify(path).slice(1, -1);
const megabytes = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/**
 * Reads the hook's `reports:` out of an exited step's `/kozmic/src` and sums them up. Each
 * pattern's directory is read from the engine as a tar stream (symlinks stay entries: only
 * regular files are read), files are checked against the limits as they stream, and each
 * is parsed on its own. A pattern matching nothing, an oversized or a malformed file is a
 * warning line in the log, never the job's failure; undefined when no report was read.
 */
export async function collectReports(
  engine: Engine,
  stepId: string,
  patterns: readonly string[],
  options: {
    say: (line: string) => void;
    /** Whether a path relative to the repository is one of its files. */
    isRepositoryFile: (path: string) => boolean;
    limits?: ReportLimits;
  },
): Promise<TestResults | undefined> {
  const { say, isRepositoryFile } = options;
  const limits = options.limits ?? REPORT_LIMITS;
  const matchers = patterns.map((pattern) => picomatch(pattern, { dot: true }));
  const matched = new Set<number>();
  const taken = takeFiles(limits, say);
  let scanned = 0;
  for (const base of new Set(patterns.map((pattern) => picomatch.scan(pattern).base))) {
    try {
      const archive = await engine.readStepSource(stepId, base);
      if (!archive) continue;
      const { extract } = await import("tar-stream");
      const entries = extract();
      archive.on("error", (error: Error) => entries.destroy(error));
      archive.pipe(entries);
      for await (const entry of entries) {
        scanned += entry.header.size ?? 0;
        if (scanned > limits.maxScannedBytes) {
          say(
            `reports: warning: stopped looking for reports after ${megabytes(limits.maxScannedBytes)} ` +
              "of other files; name the reports' directory in the pattern",
          );
          (archive as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
          break;
        }
        const path = repositoryPath(base, entry.header.name);
        const which = matchers.flatMap((match, i) => (path && match(path) ? [i] : []));
        if (path && entry.header.type === "file" && which.length > 0 && !taken.files.has(path)) {
          for (const i of which) matched.add(i);
          await taken.take(entry.header, entry as AsyncIterable<Buffer>, path);
        }
        entry.resume(); // whatever was not read is skipped
      }
    } catch (error) {
      say(`reports: warning: reading ${shown(base || ".")} failed: ${(error as Error).message}`);
    }
  }
  patterns.forEach((pattern, i) => {
    if (!matched.has(i)) say(`reports: warning: no file matches ${shown(pattern)}`);
  });
  if (taken.tooMany > 0)
    say(
      `reports: warning: ${taken.tooMany} more files match; only the first ${limits.maxFiles} are read`,
    );
  return summarize(taken.files, say, isRepositoryFile);
}

/** Keeps the matched files' contents within the limits: how many, and how many bytes in all. */
function takeFiles(limits: ReportLimits, say: (line: string) => void) {
  const files = new Map<string, Buffer>();
  let bytesLeft = limits.maxBytes;
  let tooMany = 0;
  const take = async (header: Header, body: AsyncIterable<Buffer>, path: string) => {
    if (files.size >= limits.maxFiles) {
      tooMany++;
      return;
    }
    if ((header.size ?? 0) > bytesLeft) {
      say(
        `reports: warning: ${shown(path)} (${megabytes(header.size ?? 0)}) is over the ` +
          `${megabytes(bytesLeft)} of reports left to read; left out`,
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size <= bytesLeft) chunks.push(chunk);
    }
    if (size > bytesLeft) {
      say(`reports: warning: ${shown(path)} grew past the reports' limit while read; left out`);
      return;
    }
    bytesLeft -= size;
    files.set(path, Buffer.concat(chunks));
  };
  return {
    files,
    take,
    get tooMany() {
      return tooMany;
    },
  };
}

/** A tar entry's path relative to the repository; entries are named from the base's last part. */
function repositoryPath(base: string, name: string): string | undefined {
  const inside =
    base === "" ? name.split("/").slice(1).join("/") : posix.join(posix.dirname(base), name);
  const path = posix.normalize(inside).replace(/\/$/, "");
  if (path === "" || path === "." || path.startsWith("/") || path.split("/").includes(".."))
    return undefined;
  return path;
}

function summarize(
  files: ReadonlyMap<string, Buffer>,
  say: (line: string) => void,
  isRepositoryFile: (path: string) => boolean,
): TestResults | undefined {
  const counts: TestCounts = { tests: 0, failed: 0, skipped: 0 };
  const annotations: JobAnnotation[] = [];
  let read = 0;
  for (const [path, content] of files) {
    try {
      const report = readJUnit(new TextDecoder().decode(content));
      read++;
      counts.tests += report.tests;
      counts.failed += report.failed;
      counts.skipped += report.skipped;
      for (const test of report.failures) {
        if (annotations.length >= MAX_JOB_ANNOTATIONS) break;
        annotations.push(failedTestAnnotation(test, path, isRepositoryFile));
      }
    } catch (error) {
      say(
        `reports: warning: ${shown(path)} is not a JUnit report: ${(error as Error).message}; left out`,
      );
    }
  }
  if (read === 0) return undefined;
  say(`reports: ${describeTestCounts(counts)} (${read} file${read === 1 ? "" : "s"})`);
  return { counts, annotations };
}
