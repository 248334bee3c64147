import { isFinal, type JobStatus } from "../core/job-state.js";

// The embedded store's retention rules, without I/O: what has expired at a time T, and how
// the sweep (embedded-retention.ts) paces its work. The rules are DynamoDB's TTL rules
// (docs/queue-store.md): a log chunk expires `retention` after it was written, a delivery
// id `deliveryRetention` after it was recorded, and a build with its jobs `retention` after
// its last job ended, never while one of them is queued or running (on DynamoDB:
// dynamodb-build-expiry.ts), so that the file stays bounded.

/** Rows deleted per transaction at most: about 16 MiB of log chunks, a few ms of work. */
export const BATCH_ROWS = 256;
/** Pages given back per `incremental_vacuum` step at most (4 MiB of 4 KiB pages), and at least. */
export const VACUUM_STEP_PAGES = { max: 1024, min: 16 };
/** What one vacuum step should take: the step size follows it (see nextVacuumStep). */
export const VACUUM_STEP_TARGET_MS = 25;
/** Vacuum work per sweep at most (pauses not counted); what is left waits for the next sweep. */
export const VACUUM_BUDGET_MS = 2_000;
/** Free pages kept for new writes, as a share of the file: only the rest is released. */
export const KEEP_FREE_SHARE = 0.25;
/** Fewer free pages than this above the share to keep are not worth a vacuum step. */
export const MIN_RELEASE_PAGES = 256;
/** A file created before auto_vacuum was on is converted (one VACUUM) up to this much live data. */
export const CONVERT_BELOW_BYTES = 64 * 1024 * 1024;
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
 * Free pages to give back to the file system: those beyond the share kept for new writes
 * (SQLite fills free pages before growing the file), none when that is under
 * MIN_RELEASE_PAGES.
 */
export function pagesToRelease(
  pageCount: number,
  freePages: number,
  keepShare = KEEP_FREE_SHARE,
): number {
  const release = freePages - Math.floor(pageCount * keepShare);
  return release >= MIN_RELEASE_PAGES ? release : 0;
}

/**
 * The pause after a batch that took `batchMs`: at least as long as the batch, so that the
 * sweep holds the write lock at most half the time and a runner's or the server's write
 * waits one batch at most; never under MIN_PAUSE_MS.
 */
export function pauseAfterBatch(batchMs: number): number {
  return Math.max(MIN_PAUSE_MS, Math.ceil(batchMs));
}

/**
 * The size of the next vacuum step, from the last one: SQLite takes a page off a long
 * free list by searching the list, so a step's cost grows with the list, and the step
 * shrinks to stay near VACUUM_STEP_TARGET_MS (and grows back as the list gets shorter).
 */
export function nextVacuumStep(lastPages: number, lastMs: number): number {
  const scaled = Math.floor((lastPages * VACUUM_STEP_TARGET_MS) / Math.max(lastMs, 1));
  return Math.min(VACUUM_STEP_PAGES.max, Math.max(VACUUM_STEP_PAGES.min, scaled));
}

/**
 * What to do about the file's free pages, by its `auto_vacuum` mode: release them
 * (INCREMENTAL, 2); convert a file made before retention (NONE, 0) with one VACUUM while
 * its live data is small enough for that to be quick, else leave it (SQLite still reuses
 * its free pages, the file just does not shrink); nothing for FULL (1), which shrinks at
 * every commit.
 */
export function vacuumMode(
  autoVacuum: number,
  liveBytes: number,
  convertBelowBytes = CONVERT_BELOW_BYTES,
): "incremental" | "convert" | "keep" {
  if (autoVacuum === 2) return "incremental";
  if (autoVacuum === 0 && liveBytes <= convertBelowBytes) return "convert";
  return "keep";
}
