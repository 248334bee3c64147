import { decideRelease } from "../core/decide-release.js";
import { ConflictError } from "../core/errors.js";
import type { JobMessage } from "../core/job-message.js";
import type { JobRecord, JobUpdate, Store } from "./port.js";
import { ANY_STATUS } from "./store-rules.js";

/** What releasing needs beyond the store: the job queue and GitHub's check runs. */
export interface ReleaseIo {
  /** Sends a released job's message. */
  send(message: JobMessage): Promise<void>;
  /** Ends a skipped job's check run (`job.message` says why). */
  reportSkipped(job: JobRecord): Promise<void>;
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * After `ended` ended (its end recorded): each job waiting for it whose needs have all ended
 * is queued (every need succeeded) or ends `skipped` saying which need did not, and the
 * skipped ones' dependents in turn. Each decision is a write conditional on the job still
 * waiting, marked with `ended`'s id, so of two finishers deciding the same job one does;
 * that one then sends the message or reports the skip, and records it did.
 *
 * Run again for the same `ended` (its finisher died between the write and the sending, and
 * another received the message again), it settles what the first left unsent. Returns the
 * jobs it settled.
 */
export async function releaseDependents(
  store: Store,
  ended: JobRecord,
  io: ReleaseIo,
): Promise<JobRecord[]> {
  const settled: JobRecord[] = [];
  const seen = new Set<string>();
  const next = [...(ended.dependents ?? [])];
  while (next.length > 0) {
    const id = next.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    let job = await store.getJob(id);
    if (!job) continue;
    if (job.status === "waiting") job = await decide(store, job, ended.id, io.now());
    if (job.conclusion === "skipped") next.push(...(job.dependents ?? []));
    if (job.releasedBy !== ended.id) continue;
    if (job.status === "queued" && job.enqueuedAt === undefined) {
      await io.send(messageOf(job));
      settled.push(await store.updateJob(id, ANY_STATUS, { enqueuedAt: io.now() }));
    } else if (job.conclusion === "skipped" && job.reportedAt === undefined) {
      await io.reportSkipped(job);
      settled.push(await store.updateJob(id, ["completed"], { reportedAt: io.now() }));
    }
  }
  return settled;
}

/** The job queued or skipped if its needs say so, as it is after (whoever decided it). */
async function decide(
  store: Store,
  job: JobRecord,
  releasedBy: string,
  now: number,
): Promise<JobRecord> {
  const needs = await Promise.all((job.needs ?? []).map((id) => store.getJob(id)));
  const release = decideRelease(needs);
  if (!release) return job;
  const update: JobUpdate =
    release.action === "release"
      ? { status: "queued", releasedBy }
      : {
          status: "completed",
          conclusion: "skipped",
          message: `skipped: ${release.reason}`,
          finishedAt: now,
          releasedBy,
        };
  try {
    return await store.transitionJob(job.id, ["waiting"], update);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    return (await store.getJob(job.id)) ?? job;
  }
}

function messageOf(job: JobRecord): JobMessage {
  if (!job.waitingMessage) throw new Error(`job ${job.id} was released without its message`);
  const { checkRunId } = job;
  return { ...job.waitingMessage, ...(checkRunId !== undefined ? { checkRunId } : {}) };
}
