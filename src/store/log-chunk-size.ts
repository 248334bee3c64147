import { PermanentError } from "../core/errors.js";
import type { LogChunk } from "./port.js";

/** Bytes of log text per chunk: keeps every DynamoDB item far below its 400 KB limit. */
export const MAX_LOG_CHUNK_BYTES = 64 * 1024;

export function assertChunkSize(chunk: LogChunk): void {
  const bytes = Buffer.byteLength(chunk.data, "utf8");
  if (bytes > MAX_LOG_CHUNK_BYTES) {
    throw new PermanentError(
      `log chunk ${chunk.seq} of job ${chunk.jobId} is ${bytes} bytes; split it into chunks of at most ${MAX_LOG_CHUNK_BYTES} bytes`,
    );
  }
  if (!Number.isInteger(chunk.seq) || chunk.seq < 0) {
    throw new PermanentError(`log chunk seq must be a whole number >= 0, got ${chunk.seq}`);
  }
}

/** The most log a job keeps unless KOZMIC_LOG_CAP_BYTES says otherwise; output past it is dropped with a note. */
export const DEFAULT_LOG_CAP_BYTES = 50 * 1024 * 1024;
