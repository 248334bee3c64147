import { ConflictError, PermanentError } from "../core/errors.js";
import { canTransition, type JobStatus } from "../core/job-state.js";
import type { ClaimResult, JobRecord, JobUpdate, LogChunk } from "./port.js";

// The rules both store adapters keep, without I/O. A job's change: the adapter reads the job,
// applies one of these and writes the result conditionally on the job being as it was read.

/**
 * What the store holds was written by a newer Kozmic than this one (a rollback without
 * restoring the backup): reading it on would mean a silent downgrade.
 */
export class StoreTooNewError extends PermanentError {}

/** Every status: a change allowed whatever the job's status (a check run id, a release). */
export const ANY_STATUS = ["waiting", "queued", "running", "completed", "errored"] as const;

/** The job after `fields`, or a ConflictError saying why the change may not happen. */
export function checkJobChange(
  id: string,
  job: JobRecord | undefined,
  from: readonly JobStatus[],
  fields: Partial<JobUpdate>,
  now: number,
): JobRecord {
  if (!job) throw new ConflictError(`job ${id} does not exist`);
  if (!from.includes(job.status)) {
    throw new ConflictError(
      `job ${id} is ${job.status}, not ${from.join(" or ")}: the change was not applied`,
    );
  }
  if (fields.status !== undefined && !canTransition(job.status, fields.status)) {
    throw new ConflictError(`job ${id} cannot go from ${job.status} to ${fields.status}`);
  }
  return { ...job, ...fields, updatedAt: now };
}

/**
 * The lease rules: queued or own lease -> claimed; another owner's live lease (or a job
 * still waiting for its needs) -> held; an expired lease -> taken-over; a finished job ->
 * finished. `write` says whether `result.job` must be stored.
 */
export function decideClaim(
  job: JobRecord,
  owner: string,
  leaseMs: number,
  now: number,
): { write: boolean; result: ClaimResult } {
  if (job.status === "completed" || job.status === "errored") {
    return { write: false, result: { outcome: "finished", job } };
  }
  // Its message is sent once it is released: one that came sooner waits, as for a holder.
  if (job.status === "waiting") return { write: false, result: { outcome: "held", job } };
  const leased = (): JobRecord => ({
    ...job,
    status: "running",
    phase: job.status === "queued" ? "preparing" : (job.phase ?? "preparing"),
    leaseOwner: owner,
    leaseExpiresAt: now + leaseMs,
    startedAt: job.startedAt ?? now,
    updatedAt: now,
  });
  if (job.status === "queued" || job.leaseOwner === owner || job.leaseOwner === undefined) {
    return { write: true, result: { outcome: "claimed", job: leased() } };
  }
  if ((job.leaseExpiresAt ?? 0) > now) {
    return { write: false, result: { outcome: "held", job } };
  }
  return {
    write: true,
    result: { outcome: "taken-over", job: leased(), previousOwner: job.leaseOwner },
  };
}

/** The job with its lease extended, or a ConflictError when `owner` no longer holds it. */
export function renewedLease(
  id: string,
  job: JobRecord | undefined,
  owner: string,
  leaseMs: number,
  now: number,
): JobRecord {
  if (!job || job.status !== "running" || job.leaseOwner !== owner) {
    throw new ConflictError(
      `job ${id}: ${owner} no longer holds the lease (owner ${job?.leaseOwner ?? "none"}, status ${job?.status ?? "missing"})`,
    );
  }
  return { ...job, leaseExpiresAt: now + leaseMs, updatedAt: now };
}

/** The job flagged for cancelling; undefined (nothing to write) when it has already ended. */
export function cancelRequested(job: JobRecord, reason: string): JobRecord | undefined {
  if (job.status === "completed" || job.status === "errored") return undefined;
  return { ...job, cancelRequested: true, message: reason, updatedAt: Date.now() };
}

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
