import { ConflictError } from "../core/errors.js";
import { canTransition, type JobStatus } from "../core/job-state.js";
import type { JobRecord, JobUpdate } from "./port.js";

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
