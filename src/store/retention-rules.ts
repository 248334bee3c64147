import { isFinal, type JobStatus } from "../core/job-state.js";

// The embedded store's retention rules, without I/O: what has expired at a time T, and how
// the sweep (embedded-retention.ts) paces its work. The rules are DynamoDB's TTL rules
// (docs/queue-store.md): a log chunk expires `retention` after it was written, a delivery
// id `deliveryRetention` after it was recorded, and a build with its jobs `retention` after
// its last job ended, never while one of them is queued or running (on DynamoDB:
// dynamodb-jobs.ts), so that the file stays bounded.

/** Rows deleted per transaction at most: about 16 MiB of log chunks, a few ms of work. */
export const BATCH_ROWS = 256;
const MIN_PAUSE_MS = 5;

/** What the rules read of a job. */
export type JobSummary = { status: JobStatus; updatedAt: number };

/** The epoch second at and before which an `expires_at` has passed at `nowMs`. */
export function expiryCutoff(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** A record whose `expires_at` (epoch seconds; null: never) has passed at `nowMs`. */
export function isExpired(expiresAt: number | null | undefined, nowMs: number): boolean {
  return expiresAt !== null && expiresAt !== undefined && expiresAt <= expiryCutoff(nowMs);
}

/**
 * When a build and its jobs expire (epoch seconds): `retentionS` after the last change of
 * its last job to end (or after its creation, for a build without jobs); null while any job
 * is queued or running.
 */
export function buildExpiresAt(
  createdAt: number,
  jobs: readonly JobSummary[],
  retentionS: number,
): number | null {
  if (jobs.some((job) => !isFinal(job.status))) return null;
  const last = jobs.reduce((latest, job) => Math.max(latest, job.updatedAt), createdAt);
  return expiryCutoff(last) + retentionS;
}

/**
 * The builds one transaction deletes: in the order given, as long as the build rows plus
 * their job rows stay within `budgetRows` (always at least one build, however many jobs).
 */
export function takeBuildsWithinBudget(
  candidates: readonly { id: string; jobs: number }[],
  budgetRows: number,
): string[] {
  const taken: string[] = [];
  let rows = 0;
  for (const build of candidates) {
    const cost = 1 + build.jobs;
    if (taken.length > 0 && rows + cost > budgetRows) break;
    taken.push(build.id);
    rows += cost;
  }
  return taken;
}

/**
 * The pause after a batch that took `batchMs`: at least as long as the batch, so that the
 * sweep holds the write lock at most half the time and a runner's or the server's write
 * waits one batch at most; never under MIN_PAUSE_MS.
 */
export function pauseAfterBatch(batchMs: number): number {
  return Math.max(MIN_PAUSE_MS, Math.ceil(batchMs));
}
