import { Readable } from "node:stream";
import type { Engine } from "../engine/port.js";
import { MAX_LISTED } from "../../src/store/embedded-artifacts.js";
import { megabytes, shown, walkStepFiles } from "./walk-step-files.js";

/** Where a job's artifacts go (the artifact store, or `kozmic run`'s directory), and how much. */
export interface ArtifactSink {
  /** Stores one file, exactly `size` bytes, by its path relative to the repository. */
  put(name: string, body: Readable, size: number): Promise<void>;
  /** Bytes kept per job at most (KOZMIC_ARTIFACT_MAX_SIZE). */
  maxBytes: number;
}

/** Bytes of other files passed over at most, as for reports (collect-reports.ts). */
const MAX_SCANNED_BYTES = 4 * 1024 ** 3;

/**
 * Copies the hook's `artifacts:` out of an exited step's `/kozmic/src` into `sink`, each file
 * streamed as it is read (walk-step-files.ts: regular files only, never through a symlink).
 * A file past the job's size limit, past the most files kept, or that fails to store is
 * skipped with a log line, never the job's failure.
 */
export async function collectArtifacts(
  engine: Engine,
  stepId: string,
  patterns: readonly string[],
  sink: ArtifactSink,
  say: (line: string) => void,
): Promise<void> {
  let bytesLeft = sink.maxBytes;
  let kept = 0;
  let tooMany = 0;
  await walkStepFiles(engine, stepId, patterns, {
    label: "artifacts",
    say,
    maxScannedBytes: MAX_SCANNED_BYTES,
    take: async ({ path, header, body }) => {
      const size = header.size ?? 0;
      if (kept >= MAX_LISTED) {
        tooMany++;
        return;
      }
      if (size > bytesLeft) {
        say(
          `artifacts: warning: ${shown(path)} (${megabytes(size)}) is over the ` +
            `${megabytes(bytesLeft)} left of the job's ${megabytes(sink.maxBytes)} ` +
            "(KOZMIC_ARTIFACT_MAX_SIZE); skipped",
        );
        return;
      }
      try {
        await sink.put(path, Readable.from(body), size);
      } catch (error) {
        say(`artifacts: warning: ${shown(path)} could not be stored: ${(error as Error).message}`);
        return;
      }
      bytesLeft -= size;
      kept++;
      say(`artifacts: kept ${shown(path)} (${megabytes(size)})`);
    },
  });
  if (tooMany > 0)
    say(`artifacts: warning: ${tooMany} more files match; only the first ${MAX_LISTED} are kept`);
  if (kept > 0)
    say(
      `artifacts: ${kept} file${kept === 1 ? "" : "s"}, ${megabytes(sink.maxBytes - bytesLeft)} kept`,
    );
}
