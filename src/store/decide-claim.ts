import type { ClaimResult, JobRecord } from "./port.js";

/**
 * The lease rules, without I/O: queued or own lease -> claimed; another owner's live lease
 * (or a job still waiting for its needs) -> held; an expired lease -> taken-over; a finished job -> finished. `write` says whether
 * `result.job` must be stored (conditionally on the job being as it was read).
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
