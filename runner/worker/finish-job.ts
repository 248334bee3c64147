import type { JobConclusion } from "../../src/core/job-state.js";
import { ConflictError } from "../../src/core/errors.js";
import { jobUrl } from "../../src/core/job-url.js";
import type { ReceivedJob } from "../../src/queue/port.js";
import { lastLines, plainLogText } from "../../src/core/plain-log-text.js";
import type { JobRecord, JobUpdate, LogSectionRecord, Store } from "../../src/store/port.js";
import { releaseDependents } from "../../src/store/release-dependents.js";
import type { StoreLogWriter } from "../logs/store-log-writer.js";
import { timed } from "../pipeline/step-timings.js";
import { withGitHubRetry } from "./github-access.js";
import { BRIEF, PATIENT, retryTransient } from "./store-retry.js";
import { everyInTurn } from "./watch-job.js";
import { messageVisibilitySeconds, refOf, type WorkerContext } from "./worker-context.js";

/**
 * How a job ended, as its record keeps it (its `message`: why it was cancelled, why it
 * failed for good, or the infrastructure failure); the check run is completed from this alone.
 */
export type JobEnd = JobUpdate &
  ({ status: "completed"; conclusion: JobConclusion } | { status: "errored"; conclusion?: never });

/**
 * The end of a job, one step that any runner can finish, in this order:
 *
 * 1. the store records the end (from `from`, normally `running` under this runner's lease):
 *    from here on the job never runs again;
 * 2. GitHub's check run is completed from that record (never moved back afterwards), and
 *    the record says so (`reportedAt`);
 * 3. the message is deleted.
 *
 * A failure in 2 or 3 hides the message for a while; whichever runner receives it next
 * finds the job finished and resumes at 2 (reportFinished). The write in 1 is tried again
 * for about two minutes while the caller's heartbeat holds the lease; a failure past that
 * throws, and the caller leaves the job running under a lease that lapses (never gives it
 * back), so another runner takes it over: at most one run per lease, nothing reported twice.
 * `tail` is the log's end when the caller has it in memory; `stop` ends the tries (the lease
 * was lost).
 */
export async function finishJob(
  ctx: WorkerContext,
  received: ReceivedJob,
  end: JobEnd,
  options: { from: readonly JobRecord["status"][]; tail?: string; stop?: () => boolean },
): Promise<void> {
  const jobId = received.body.jobId;
  const recorded = await timed(ctx.timings, "store write", () =>
    recordEnd(ctx, jobId, end, options.from, options.stop),
  );
  if (!recorded) {
    ctx.log(`job ${jobId}: finished by another runner; leaving it`);
    return;
  }
  await settleFinished(ctx, received, recorded, options.tail);
}

/** The end of a job whose log this runner writes: the log is stored first, and its end reported. */
export async function finishLogged(
  ctx: WorkerContext,
  received: ReceivedJob,
  log: { writer: StoreLogWriter; tail?: { text: string } },
  from: readonly JobRecord["status"][],
  end: JobEnd,
): Promise<void> {
  await log.writer.flush().catch(() => {});
  await finishJob(
    ctx,
    received,
    { ...end, logChunks: log.writer.chunksStored },
    { from, ...(log.tail ? { tail: log.tail.text } : {}) },
  );
}

/**
 * Reports a finished job whose check run may not be completed yet, then deletes its
 * message; on failure the message comes back after a backoff. The report waits its turn
 * in its installation's lane (ReportLanes) and this returns at once, so the job's slot
 * is free while it does. Never throws.
 */
export function settleFinished(
  ctx: WorkerContext,
  received: ReceivedJob,
  job: JobRecord,
  tail?: string,
): Promise<void> {
  // Reporting may wait out a GitHub outage or rate limit: the job stays held meanwhile.
  const stopHold = holdWhileReporting(ctx, received, job);
  ctx.reports.add(received.body.installationId, () =>
    reportAndDelete(ctx, received, job, stopHold, tail),
  );
  return Promise.resolve();
}

/**
 * While a finished job's report waits its turn, a beat every third of a lease (one at a
 * time: a slow store never piles them up): its message stays hidden, with the receipt
 * another runner left in the record once this one's no longer moves it; and its lease is
 * renewed when less than half of it is left, so that a runner that receives the message
 * leaves the report to this one (settlesNow). Returns the function that stops it.
 */
function holdWhileReporting(ctx: WorkerContext, received: ReceivedJob, job: JobRecord) {
  const { leaseMs } = ctx.settings;
  const visibility = messageVisibilitySeconds(leaseMs);
  let leaseUntil = job.leaseExpiresAt ?? 0;
  let stopped = false;
  const timer = everyInTurn(leaseMs / 3, async () => {
    let held: JobRecord | undefined;
    if (leaseUntil - Date.now() < leaseMs / 2) {
      const until = Date.now() + leaseMs;
      held = await ctx.store
        .updateJob(job.id, [job.status], { leaseExpiresAt: until })
        .catch(() => undefined);
      if (held) leaseUntil = until;
    }
    if (stopped) return;
    try {
      await ctx.queue.extendVisibility(received.receipt, visibility);
    } catch {
      const newer = (held ?? (await ctx.store.getJob(job.id).catch(() => undefined)))
        ?.messageReceipt;
      if (stopped || !newer || newer === received.receipt) return;
      received.receipt = newer;
      await ctx.queue.extendVisibility(newer, visibility).catch(() => {});
    }
  });
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Deletes the message, with the receipt another runner left in the record if ours is stale. */
async function deleteMessage(ctx: WorkerContext, received: ReceivedJob): Promise<void> {
  try {
    await ctx.queue.delete(received.receipt);
  } catch (error) {
    const newer = (await ctx.store.getJob(received.body.jobId).catch(() => undefined))
      ?.messageReceipt;
    if (!newer || newer === received.receipt) throw error;
    received.receipt = newer;
    await ctx.queue.delete(newer);
  }
}

async function reportAndDelete(
  ctx: WorkerContext,
  received: ReceivedJob,
  job: JobRecord,
  stopHold: () => void,
  tail?: string,
): Promise<void> {
  try {
    await timed(ctx.timings, "check run completed", () => reportFinished(ctx, received, job, tail));
    // Before the message goes: a runner that dies here leaves it to come back and resume.
    if (job.dependents?.length) {
      await timed(ctx.timings, "dependents released", () => releaseAfter(ctx, received, job));
    }
    stopHold();
    await timed(ctx.timings, "message delete", () => deleteMessage(ctx, received));
  } catch (error) {
    stopHold();
    const delay = Math.min(900, ctx.settings.retryBaseSeconds * 2 ** (received.receiveCount - 1));
    ctx.log(
      `job ${job.id}: finished as ${job.conclusion ?? job.status}, but not yet reported ` +
        `(${(error as Error).message}); trying again in ${delay}s`,
      "warn",
    );
    // Whichever runner receives the message after the delay makes the report.
    await ctx.store.updateJob(job.id, [job.status], { leaseExpiresAt: 0 }).catch(() => {});
    await ctx.queue.extendVisibility(received.receipt, delay).catch(() => {});
  }
}

/** The jobs that need this one: queued, or skipped on GitHub (release-dependents.ts). */
async function releaseAfter(ctx: WorkerContext, received: ReceivedJob, job: JobRecord) {
  const message = received.body;
  const [owner, repo] = message.repository.fullName.split("/") as [string, string];
  const reporter = ctx.access(message.installationId).reporter;
  await releaseDependents(ctx.store, job, {
    send: async (next) => void (await ctx.queue.send(next)),
    reportSkipped: (skipped) =>
      withGitHubRetry(
        "report a skipped job",
        () =>
          reporter.completeSkippedJob(
            { owner, repo, headSha: message.sha },
            skipped,
            jobUrl(ctx.settings.publicUrl, skipped.id),
          ),
        ctx.github,
      ),
    now: Date.now,
  });
}

/**
 * Writes the end, trying again for a while when the store fails (store-retry.ts: PATIENT);
 * a write that landed before its answer was lost counts as done. Undefined when another
 * runner holds or ended the job; throws when the store keeps failing, or `stop` says so.
 */
async function recordEnd(
  ctx: WorkerContext,
  jobId: string,
  end: JobEnd,
  from: readonly JobRecord["status"][],
  stop?: () => boolean,
): Promise<JobRecord | undefined> {
  const finishedAt = Date.now();
  try {
    return await retryTransient(
      () => ctx.store.transitionJob(jobId, from, { ...end, finishedAt }),
      PATIENT,
      stop,
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
  const job = await retryTransient(() => ctx.store.getJob(jobId), PATIENT, stop);
  const ours = job?.leaseOwner === ctx.owner || !from.includes("running");
  const final = job?.status === "completed" || job?.status === "errored";
  return final && ours ? job : undefined;
}

/** Completes the check run from the job's record, once: `reportedAt` marks it done. */
async function reportFinished(
  ctx: WorkerContext,
  received: ReceivedJob,
  job: JobRecord,
  tail?: string,
): Promise<void> {
  if (job.reportedAt !== undefined) return;
  const checkRunId = job.checkRunId ?? received.body.checkRunId;
  if (checkRunId !== undefined) {
    const ref = refOf(received.body, checkRunId);
    const reporter = ctx.access(received.body.installationId).reporter;
    const logUrl = jobUrl(ctx.settings.publicUrl, job.id);
    if (job.status === "errored") {
      const why = job.message ?? "Kozmic could not run this job";
      await withGitHubRetry(
        "report the infrastructure failure",
        () => reporter.completeInfrastructureFailure(ref, why, logUrl),
        ctx.github,
      );
    } else {
      const logTail = tail ?? (await readLogEnd(ctx.store, job));
      const sections = await ctx.store.readLogSections(job.id).catch(() => []);
      const failure = await failedSectionEnd(ctx.store, job, sections).catch(() => undefined);
      await withGitHubRetry(
        "complete the check run",
        () =>
          reporter.complete(
            ref,
            {
              conclusion: job.conclusion ?? "failure",
              ...(job.exitCode !== undefined ? { exitCode: job.exitCode } : {}),
              ...(job.durations ? { durations: job.durations } : {}),
              ...(job.cacheKey !== undefined ? { cacheKey: job.cacheKey } : {}),
              ...(job.cacheHit !== undefined ? { cacheHit: job.cacheHit } : {}),
              ...(job.cacheMissReasons ? { cacheMissReasons: job.cacheMissReasons } : {}),
              logUrl,
              sections,
              ...(job.message ? { reason: job.message } : {}),
              ...(failure ? { failure } : {}),
              ...(job.annotations ? { annotations: job.annotations } : {}),
              ...(job.tests ? { tests: job.tests } : {}),
            },
            logTail,
            job.startedAt !== undefined ? new Date(job.startedAt) : undefined,
          ),
        ctx.github,
      );
    }
  }
  // Not noted, the next holder of the message completes the check run again (the same way).
  const reportedAt = Date.now();
  await retryTransient(() => ctx.store.updateJob(job.id, [job.status], { reportedAt }), BRIEF);
}

/** The end of a stored log (its last two chunks, up to 128 KiB), for a later report. */
async function readLogEnd(store: Store, job: JobRecord): Promise<string | undefined> {
  if (!job.logChunks) return undefined;
  const chunks = await store.readLog(job.id, Math.max(0, job.logChunks - 2), 2);
  return chunks.map((chunk) => chunk.data).join("");
}

/** Lines of a failed section's end the check run's summary shows. */
const FAILURE_LINES = 20;

/**
 * The last lines of the section that failed (its last two chunks, as plain text), so that
 * the check run says why without opening the log; undefined when no section failed.
 */
async function failedSectionEnd(
  store: Store,
  job: JobRecord,
  sections: readonly LogSectionRecord[],
): Promise<{ section: string; lines: string } | undefined> {
  if (job.conclusion !== "failure" && job.conclusion !== "timed_out") return undefined;
  const failed =
    [...sections]
      .reverse()
      .find((s) => s.conclusion === "failure" || s.conclusion === "timed_out") ??
    sections.find((s) => s.endSeq === undefined);
  if (!failed) return undefined;
  const end = failed.endSeq ?? job.logChunks ?? failed.startSeq + 1;
  const from = Math.max(failed.startSeq, end - 2);
  const chunks = await store.readLog(job.id, from, end - from);
  const text = plainLogText(chunks.map((chunk) => chunk.data).join(""));
  return { section: failed.title, lines: lastLines(text, FAILURE_LINES) };
}
