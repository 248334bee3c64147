import { setTimeout as sleep } from "node:timers/promises";
import { InfrastructureError } from "../core/errors.js";
import { isFinal, type JobStatus } from "../core/job-state.js";
import { buildKey, jobItem, jobKey, jobsOfBuild, recordOf } from "./dynamodb-items.js";
import type { DynamoTable } from "./dynamodb-table.js";
import { cancelRequested, checkJobChange, decideClaim, renewedLease } from "./store-rules.js";
import type { BuildRecord, ClaimResult, JobRecord, JobUpdate, Store } from "./port.js";
import { buildExpiresAt } from "./retention-rules.js";

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
        const next = job && cancelRequested(job, reason);
        return { next, result: next ?? job };
      });
    },
  };
}

/** A job's lease: who runs it and until when (rules in store-rules.ts). */
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
        const next = renewedLease(id, job, owner, leaseMs, now);
        return { next, result: next };
      });
    },
  };
}

/**
 * Builds and their jobs expire as in the embedded store (retention-rules.ts): `retentionS`
 * after the last of the build's jobs ended, never while one is queued or running. Called
 * after a job's change to an ended status; the table's TTL then deletes the build and its
 * jobs together. The index lists the build's jobs (made with the build, long before one
 * ends); each is read again from its own item, so a job that ended a moment ago is seen so.
 */
async function expireEndedBuild(
  table: DynamoTable,
  buildId: string,
  retentionS: number,
): Promise<void> {
  const buildItem = await table.get("get build", buildKey(buildId), true);
  if (!buildItem) return;
  const listed = await table.queryAll("list jobs of build", {
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :p",
    ExpressionAttributeValues: { ":p": jobsOfBuild(buildId) },
  });
  const jobs: JobRecord[] = [];
  for (const item of listed) {
    const job = (await readJob(table, recordOf<JobRecord>(item).id))?.job;
    if (!job) continue;
    if (!isFinal(job.status)) return;
    jobs.push(job);
  }
  const at = buildExpiresAt(recordOf<BuildRecord>(buildItem).createdAt, jobs, retentionS);
  if (at === null) return;
  for (const job of jobs) await table.expireAt("expire job", jobKey(job.id), at);
  await table.expireAt("expire build", buildKey(buildId), at);
}
