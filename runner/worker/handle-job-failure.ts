import type { CheckRunRef } from "../../src/checks/checks-reporter.js";
import { ConflictError, KozmicError, PermanentError } from "../../src/core/errors.js";
import type { ReceivedJob } from "../../src/queue/port.js";
import type { StoreLogWriter } from "../logs/store-log-writer.js";
import { finishLogged } from "./finish-job.js";
import { nameFullDisk } from "./host-health.js";
import type { JobControl, WorkerContext } from "./worker-context.js";

/**
 * Reports a job that threw: lost lease, permanent failure, or infrastructure (retry or give
 * up). A job that `ran` to its end and threw recording it (the store failed past the
 * runner's retries, store-retry.ts) is never given back, which would run it again at once
 * while its first run's result is lost. It stays running under this runner's lease, which
 * lapses now that the heartbeat stopped, and its message comes back just after that
 * (messageVisibilitySeconds): if the store answers by then, the runner that takes it over
 * runs it again; that is the one case left of a job run twice, after minutes of store outage.
 */
export async function handleFailure(
  ctx: WorkerContext,
  received: ReceivedJob,
  error: unknown,
  job: {
    writer: StoreLogWriter;
    tail: { text: string };
    say: (line: string) => void;
    ref?: CheckRunRef | undefined;
    control: JobControl;
  },
  ran: boolean,
): Promise<void> {
  const { queue, settings, log } = ctx;
  const jobId = received.body.jobId;
  const message = (error as Error).message ?? String(error);
  const text = ran ? message : nameFullDisk(message, settings.pipeline.dataDir);
  if (error instanceof ConflictError || job.control.reason?.kind === "lease-lost") {
    log(`job ${jobId}: another runner holds it now (${text}); leaving it`);
    await job.writer.flush().catch(() => {});
    return;
  }
  if (ran) {
    await job.writer.flush().catch(() => {});
    log(
      `job ${jobId}: ran to its end, but the end could not be recorded (${text}); ` +
        "left to its lease: the runner that takes it over when the lease lapses runs it again",
      "error",
    );
    return;
  }
  try {
    if (error instanceof PermanentError) {
      // The job cannot ever run as it is (unknown commit, a forbidden setting): it fails.
      job.say(`cannot run this job: ${text}`);
      await finishLogged(ctx, received, job, ["running"], {
        status: "completed",
        conclusion: "failure",
        message: text,
      });
      log(`job ${jobId}: failed for good: ${text}`, "warn");
      return;
    }
    // Anything else is the infrastructure's fault (Docker, GitHub, the store, git hosting).
    const kind = error instanceof KozmicError ? "" : " (unexpected)";
    job.say(`infrastructure problem${kind}: ${text}`);
    if (received.receiveCount >= settings.maxReceives) {
      job.say(`giving up after ${received.receiveCount} attempts`);
      const message = `${text} (after ${received.receiveCount} attempts)`;
      await finishLogged(ctx, received, { writer: job.writer }, ["running", "queued"], {
        status: "errored",
        message,
      });
      log(`job ${jobId}: errored: ${message}`, "error");
      return;
    }
    const delay = Math.min(900, settings.retryBaseSeconds * 2 ** (received.receiveCount - 1));
    job.say(
      `the job goes back to the queue and is tried again in ${delay}s ` +
        `(attempt ${received.receiveCount} of ${settings.maxReceives})`,
    );
    await giveBack(ctx, received, job.writer, text, delay, job.ref);
  } catch (reportError) {
    log(`job ${jobId}: ${text}; then: ${(reportError as Error).message}`, "error");
    await queue.extendVisibility(received.receipt, settings.retryBaseSeconds).catch(() => {});
  }
}

/** Returns the job to the queue: status queued, lease released, message visible after `delaySeconds`. */
export async function giveBack(
  ctx: WorkerContext,
  received: ReceivedJob,
  writer: StoreLogWriter,
  why: string,
  delaySeconds: number,
  ref: CheckRunRef | undefined,
): Promise<void> {
  const jobId = received.body.jobId;
  await writer.flush().catch(() => {});
  if (ref) {
    await ctx
      .access(received.body.installationId)
      .requeue(ref, why)
      .catch((error: unknown) =>
        ctx.log(`job ${jobId}: check run not requeued: ${(error as Error).message}`, "warn"),
      );
  }
  await ctx.store
    .transitionJob(jobId, ["running"], {
      status: "queued",
      phase: "preparing",
      leaseExpiresAt: 0,
    })
    .catch((error: unknown) => ctx.log(`job ${jobId}: ${(error as Error).message}`, "warn"));
  await ctx.queue.extendVisibility(received.receipt, delaySeconds);
  ctx.log(`job ${jobId}: returned to the queue (${why})`, "warn");
}
