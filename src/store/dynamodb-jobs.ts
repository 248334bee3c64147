import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError, InfrastructureError } from "../core/errors.js";
import { isFinal, type JobStatus } from "../core/job-state.js";
import { checkJobChange } from "./check-job-change.js";
import { decideClaim } from "./decide-claim.js";
import { expireEndedBuild } from "./dynamodb-build-expiry.js";
import { jobItem, jobKey, recordOf } from "./dynamodb-items.js";
import type { DynamoTable } from "./dynamodb-table.js";
import type { ClaimResult, JobRecord, JobUpdate, Store } from "./port.js";

/** Optimistic-write retries when another writer changed a job between our read and write. */
const MAX_ATTEMPTS = 8;

/** What a change decides from the job it read: the job to write (none: write nothing) and the answer. */
type Decide<T> = (job: JobRecord | undefined) => { next?: JobRecord; result: T };

async function readJob(
  table: DynamoTable,
  id: string,
): Promise<{ job: JobRecord; version: number } | undefined> {
  const item = await table.get("get job", jobKey(id), true);
  return item ? { job: recordOf<JobRecord>(item), version: item.version as number } : undefined;
}

/** Writes `next` only if the job is still at `version`; false when someone else wrote first. */
async function writeJob(table: DynamoTable, next: JobRecord, version: number): Promise<boolean> {
  const out = await table.putIf("write job", {
    Item: jobItem(next, version + 1),
    ConditionExpression: "version = :v",
    ExpressionAttributeValues: { ":v": version },
  });
  return out !== undefined;
}

/** Read, decide, conditionally write; again from the read when another writer won. */
async function mutateJob<T>(table: DynamoTable, id: string, decide: Decide<T>): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readJob(table, id);
    const { next, result } = decide(current?.job);
    if (!next || !current) return result;
    if (await writeJob(table, next, current.version)) return result;
    await sleep(5 + Math.random() * 20);
  }
  throw new InfrastructureError(`job ${id}: too many concurrent writers, gave up`);
}

/**
 * A job's record: read, status changes, field updates and cancel requests. A change that
 * leaves a job ended may let its build expire (`retentionS` later, with its jobs).
 */
export function jobOperations(
  table: DynamoTable,
  retentionS: number,
): Pick<Store, "getJob" | "transitionJob" | "updateJob" | "requestCancel"> {
  const changeJob = async (id: string, from: readonly JobStatus[], fields: Partial<JobUpdate>) => {
    const changed = await mutateJob(table, id, (job) => {
      const next = checkJobChange(id, job, from, fields, Date.now());
      return { next, result: next };
    });
    if (isFinal(changed.status)) {
      // The change is made: an expiry that fails now is set by the job's next change, or never.
      await expireEndedBuild(table, changed.buildId, retentionS).catch((error: unknown) => {
        console.warn(
          `kozmic store: build ${changed.buildId} left without expiry: ${String(error)}`,
        );
      });
    }
    return changed;
  };
  return {
    async getJob(id) {
      return (await readJob(table, id))?.job;
    },
    async transitionJob(id, from, update) {
      return changeJob(id, from, update);
    },
    async updateJob(id, from, fields) {
      const { status: _ignored, ...rest } = fields as Partial<JobUpdate>;
      return changeJob(id, from, rest);
    },
    async requestCancel(id, reason) {
      return mutateJob<JobRecord | undefined>(table, id, (job) => {
        if (!job || job.status === "completed" || job.status === "errored") return { result: job };
        const next: JobRecord = {
          ...job,
          cancelRequested: true,
          message: reason,
          updatedAt: Date.now(),
        };
        return { next, result: next };
      });
    },
  };
}

/** A job's lease: who runs it and until when (rules in decide-claim.ts). */
export function leaseOperations(table: DynamoTable): Pick<Store, "claimJob" | "renewLease"> {
  return {
    async claimJob(id, owner, leaseMs, now = Date.now()) {
      return mutateJob<ClaimResult>(table, id, (job) => {
        if (!job) return { result: { outcome: "missing" } };
        const { write, result } = decideClaim(job, owner, leaseMs, now);
        return { next: write && result.outcome !== "missing" ? result.job : undefined, result };
      });
    },
    async renewLease(id, owner, leaseMs, now = Date.now()) {
      return mutateJob(table, id, (job) => {
        if (!job || job.status !== "running" || job.leaseOwner !== owner) {
          throw new ConflictError(
            `job ${id}: ${owner} no longer holds the lease (owner ${job?.leaseOwner ?? "none"}, status ${job?.status ?? "missing"})`,
          );
        }
        const next: JobRecord = { ...job, leaseExpiresAt: now + leaseMs, updatedAt: now };
        return { next, result: next };
      });
    },
  };
}
