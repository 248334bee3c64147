import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { JobAnnotation, TestCounts } from "../../src/core/build-records.js";
import { describeTestCounts } from "../../src/core/test-reports/describe-test-counts.js";
import { failedTestAnnotation } from "../../src/core/test-reports/failed-test-annotation.js";
import { readJUnit } from "../../src/core/test-reports/read-junit.js";
import type { Engine } from "../engine/port.js";
import { MAX_JOB_ANNOTATIONS } from "../logs/workflow-commands.js";
import { megabytes, shown, walkStepFiles, type MatchedFile } from "./walk-step-files.js";

/** What the hook's reports said: the counts, and an annotation per failed test (capped). */
export interface TestResults {
  counts: TestCounts;
  annotations: JobAnnotation[];
}

const REPORT_LIMITS = {
  /** Report files read at most; more matching files are left out, with a warning. */
  maxFiles: 100,
  /** Bytes of reports read at most, all files together; a file past them is left out. */
  maxBytes: 20 * 1024 ** 2,
  /**
   * Bytes of other files passed over at most: reading stops there, so that a pattern over a
   * huge tree (every `.xml` file of it) cannot hold the runner long after the job's end.
   */
  maxScannedBytes: 2 * 1024 ** 3,
};

/**
 * Reads the hook's `reports:` out of an exited step's `/kozmic/src` and sums them up: files
 * are checked against the limits as they stream (walk-step-files.ts), and each is parsed
 * on its own. A pattern matching nothing, an oversized or a malformed file is a warning
 * line in the log, never the job's failure; undefined when no report was read.
 */
export async function collectReports(
  engine: Engine,
  stepId: string,
  patterns: readonly string[],
  options: {
    say: (line: string) => void;
    /** Whether a path relative to the repository is one of its files. */
    isRepositoryFile: (path: string) => boolean;
    limits?: typeof REPORT_LIMITS;
  },
): Promise<TestResults | undefined> {
  const { say, isRepositoryFile } = options;
  const limits = options.limits ?? REPORT_LIMITS;
  const files = new Map<string, Buffer>();
  let bytesLeft = limits.maxBytes;
  let tooMany = 0;
  const take = async ({ path, header, body }: MatchedFile) => {
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
  await walkStepFiles(engine, stepId, patterns, {
    label: "reports",
    say,
    maxScannedBytes: limits.maxScannedBytes,
    take,
  });
  if (tooMany > 0)
    say(
      `reports: warning: ${tooMany} more files match; only the first ${limits.maxFiles} are read`,
    );
  return summarize(files, say, isRepositoryFile);
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

/**
 * Whether a path (relative, already checked to stay inside) names a regular file of the
 * checkout at `sourceDir`; answers are kept, as a report's tracebacks repeat their files.
 */
export function repositoryFiles(sourceDir: string): (path: string) => boolean {
  const known = new Map<string, boolean>();
  return (path) => {
    let answer = known.get(path);
    if (answer === undefined) {
      answer = lstatSync(join(sourceDir, path), { throwIfNoEntry: false })?.isFile() ?? false;
      known.set(path, answer);
    }
    return answer;
  };
}
