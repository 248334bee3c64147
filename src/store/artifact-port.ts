import type { Readable } from "node:stream";

/** A file a job's build produced, as its page lists it. */
export interface ArtifactEntry {
  /** Its path relative to the repository, e.g. `dist/x.whl`. */
  name: string;
  size: number;
}

/**
 * The files jobs kept (`artifacts:`), by job id and name: files under the data directory on
 * a single box, an S3 bucket on AWS. Both expire as the logs do (KOZMIC_LOG_RETENTION_DAYS
 * after they were written).
 */
export interface ArtifactStore {
  /** Stores `body`, exactly `size` bytes; a name stored again is replaced. */
  put(jobId: string, name: string, body: Readable, size: number): Promise<void>;
  /** The job's artifacts by name; none when it kept none (or they expired). */
  list(jobId: string): Promise<ArtifactEntry[]>;
  /** One artifact's bytes, or undefined when there is no such artifact. */
  get(jobId: string, name: string): Promise<{ size: number; body: Readable } | undefined>;
}

/**
 * `body`'s chunks, failing once it has given more than `size` bytes or ends with fewer: a
 * file that changed while read is never stored as something else.
 */
export async function* exactly(body: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > size) throw new Error(`more than the ${size} bytes expected`);
    yield chunk;
  }
  if (seen !== size) throw new Error(`${seen} bytes, ${size} expected`);
}

/** Job ids are the store's (web-app.ts's ID); anything else names no artifact. */
const JOB_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Whether an artifact's job id and name can be stored: a path relative to the repository,
 * without `..`, empty or control characters (collect-artifacts.ts names them so).
 */
export function isArtifactKey(jobId: string, name: string): boolean {
  return (
    JOB_ID.test(jobId) &&
    name.length > 0 &&
    name.length <= 1000 &&
    !name.startsWith("/") &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f\\]/.test(name) &&
    name.split("/").every((part) => part !== "" && part !== "." && part !== "..")
  );
}
