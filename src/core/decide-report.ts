import type { JobRecord } from "./build-records.js";

/**
 * Whether a runner that received the message of a finished job settles it now (reports it
 * if nobody has, then deletes the message), or leaves it to the runner reporting it: the
 * one that ended the job keeps its lease live while its report waits its turn (a GitHub
 * outage, a rate limit), and a second report beside it would complete the check run twice.
 * A lease that lapsed is a reporter that died: the report is taken over. Pure.
 */
export function settlesNow(
  job: Pick<JobRecord, "reportedAt" | "leaseExpiresAt">,
  now: number,
): boolean {
  if (job.reportedAt !== undefined) return true;
  return (job.leaseExpiresAt ?? 0) <= now;
}
