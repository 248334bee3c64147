import type { CheckRunRef } from "../../src/checks/checks-reporter.js";
import { parseMessageHook } from "../../src/core/job-message.js";
import type { Hook } from "../../src/core/config/schema.js";
import { ConflictError } from "../../src/core/errors.js";
import type { ReceivedJob } from "../../src/queue/port.js";
import type { JobRecord } from "../../src/store/port.js";
import { LogTail, teeLogSink } from "../logs/log-tail.js";
import { readStoredLog } from "../logs/next-log-seq.js";
import { StoreLogWriter } from "../logs/store-log-writer.js";
import { runJob, type JobPhase, type JobResult } from "../pipeline/run-job.js";
import type { Checkout } from "../source/checkout-commit.js";
import { fetchSource } from "../source/fetch-source.js";
import { resolveTrackedFiles } from "../source/resolve-tracked-files.js";
import { withGitHubRetry } from "./github-access.js";
import { failForGood, giveBack, handleFailure } from "./handle-job-failure.js";
import { watchJob } from "./watch-job.js";
import { refOf, type JobControl, type WorkerContext } from "./worker-context.js";

export type { JobControl, StopReason, WorkerContext } from "./worker-context.js";

const toSeconds = (durations: JobResult["durations"]) => ({
  pull: durations.pull / 1000,
  install: durations.install / 1000,
  build: durations.build / 1000,
  total: durations.total / 1000,
});

/**
 * One queue message, start to end: claim, report in progress, fetch, run, flush the log,
 * report the end, record it, and delete the message last. `stop` aborts the job from
 * outside (runner shutdown). Never throws: every outcome is reported somewhere.
 */
export async function processMessage(
  received: ReceivedJob,
  ctx: WorkerContext,
  control: JobControl,
): Promise<void> {
  const message = received.body;
  const { store, queue, settings, log } = ctx;
  const jobId = message.jobId;
  const logUrl = `${settings.publicUrl}/jobs/${encodeURIComponent(jobId)}`;

  let hook: Hook;
  try {
    hook = parseMessageHook(message);
  } catch (error) {
    log(`job ${jobId}: message carries an invalid hook, dropped: ${(error as Error).message}`);
    await failForGood(
      ctx,
      message,
      `the queued job's hook is invalid: ${(error as Error).message}`,
    );
    await queue.delete(received.receipt).catch(() => {});
    return;
  }

  const claim = await store.claimJob(jobId, ctx.owner, settings.leaseMs);
  if (claim.outcome === "missing") {
    log(`job ${jobId}: not in the store, message dropped`);
    await queue.delete(received.receipt);
    return;
  }
  if (claim.outcome === "finished") {
    await queue.delete(received.receipt);
    return;
  }
  if (claim.outcome === "held") {
    // Another runner works on it; its heartbeat keeps the message hidden from now on.
    return;
  }
  if (claim.outcome === "taken-over") {
    log(`job ${jobId}: taken over from ${claim.previousOwner} (lease expired)`);
  }
  let job: JobRecord = claim.job;
  const access = ctx.access(message.installationId);
  const reporter = access.reporter;
  const gh = <T>(what: string, action: () => Promise<T>) =>
    withGitHubRetry(what, action, ctx.github);

  // The lease as this runner last saw it confirmed: a log chunk is appended only while it
  // is surely still ours (see confirmLease), never into a log another runner took over.
  let confirmedAt = Date.now();
  const loseLease = (why: string) => {
    if (!control.signal.aborted) {
      control.reason = { kind: "lease-lost", message: why };
      control.abort();
    }
    control.reason ??= { kind: "lease-lost", message: why };
  };
  const confirmLease = async (): Promise<boolean> => {
    if (control.reason?.kind === "lease-lost") return false;
    if (Date.now() - confirmedAt < settings.leaseMs / 2) return true;
    try {
      await store.renewLease(jobId, ctx.owner, settings.leaseMs);
      confirmedAt = Date.now();
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      loseLease(error.message);
      return false;
    }
  };
  const stored = await readStoredLog(store, jobId);
  const writer = new StoreLogWriter({
    store,
    jobId,
    startSeq: stored.nextSeq,
    startBytes: stored.bytes,
    capBytes: settings.logCapBytes,
    onError: (error) => log(`job ${jobId}: log store: ${(error as Error).message}`),
    confirm: confirmLease,
  });
  const tail = new LogTail();
  const sink = teeLogSink(writer, tail);
  const say = (line: string) => sink.write(`==> ${line}\n`);

  let stopWatch: (() => void) | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let checkout: Checkout | undefined;
  let ref: CheckRunRef | undefined;
  let phase: JobPhase = "preparing";
  try {
    let checkRunId = job.checkRunId ?? message.checkRunId;
    if (checkRunId === undefined) {
      checkRunId = await gh("create the check run", () =>
        reporter.createQueued({
          owner: message.repository.fullName.split("/")[0]!,
          repo: message.repository.fullName.split("/")[1]!,
          name: hook.name,
          headSha: message.sha,
          jobId,
          detailsUrl: logUrl,
        }),
      );
      job = await store.updateJob(jobId, ["running"], { checkRunId });
    }
    ref = refOf(message, checkRunId);

    if (job.cancelRequested) {
      // Cancelled while queued: it never starts.
      const reason = job.message ?? "cancelled before it started";
      say(`cancelled before it started: ${reason}`);
      await writer.flush().catch(() => {});
      const cancelRef = ref;
      await gh("complete the check run", () =>
        reporter.complete(cancelRef, { conclusion: "cancelled", reason, logUrl }),
      );
      await store.transitionJob(jobId, ["running", "queued"], {
        status: "completed",
        conclusion: "cancelled",
        message: reason,
        finishedAt: Date.now(),
      });
      await queue.delete(received.receipt);
      return;
    }

    stopWatch = watchJob({
      store,
      queue,
      jobId,
      owner: ctx.owner,
      receipt: () => received.receipt,
      leaseMs: settings.leaseMs,
      heartbeatMs: settings.heartbeatMs,
      cancelPollMs: settings.cancelPollMs,
      visibilitySeconds: Math.ceil(settings.leaseMs / 1000),
      onCancel: (reason) => {
        if (!control.signal.aborted) {
          control.reason = { kind: "cancel", message: reason };
          control.abort();
        }
      },
      onRenewed: () => {
        confirmedAt = Date.now();
      },
      onLeaseLost: loseLease,
      onError: (error) => log(`job ${jobId}: heartbeat: ${(error as Error).message}`),
    });

    const inProgressRef = ref;
    await gh("mark the check run in progress", () =>
      reporter.markInProgress(inProgressRef, "preparing", new Date(job.startedAt ?? Date.now())),
    );
    say(
      `runner ${settings.name} runs job ${jobId} (${message.repository.fullName}@${message.sha.slice(0, 12)}, ` +
        `hook "${hook.name}", attempt ${received.receiveCount} of ${settings.maxReceives})`,
    );
    let shownRevision = tail.revision;
    let updating = false;
    progressTimer = setInterval(() => {
      if (tail.revision === shownRevision || updating) return;
      const revision = tail.revision;
      updating = true;
      // Only a tail GitHub took counts as shown: a dropped (throttled) or failed update is
      // tried again, or a build that went quiet would keep showing an old tail.
      void reporter
        .progress(inProgressRef, phase, tail.text)
        .then((sent) => {
          if (sent) shownRevision = revision;
        })
        .catch((error: unknown) =>
          log(`job ${jobId}: progress update: ${(error as Error).message}`),
        )
        .finally(() => (updating = false));
    }, settings.progressIntervalMs);

    say(`fetching ${message.repository.fullName} at ${message.sha}`);
    const token = await access.token();
    checkout = await fetchSource({
      dataDir: settings.pipeline.dataDir,
      repositoryId: message.repository.id,
      cloneUrl: message.repository.cloneUrl,
      sha: message.sha,
      ref: message.ref,
      ...(message.pullRequest !== undefined ? { pullRequest: message.pullRequest } : {}),
      token,
      jobId,
      runnerName: settings.name,
      signal: control.signal,
    }).catch((error: unknown) => {
      if (control.signal.aborted) return undefined;
      throw error;
    });

    let result: JobResult;
    if (!checkout) {
      result = {
        conclusion: "cancelled",
        durations: { pull: 0, install: 0, build: 0, total: 0 },
      };
    } else {
      const trackedFiles = await resolveTrackedFiles(checkout.dir, hook.tracked_files);
      result = await runJob(
        {
          jobId,
          repositoryId: String(message.repository.id),
          scope: message.trust,
          hook,
          sourceDir: checkout.dir,
          trackedFiles,
        },
        {
          engine: ctx.engine,
          settings: settings.pipeline,
          cacheRecords: store,
          log: sink,
          signal: control.signal,
          onPhase: (next) => {
            phase = next;
            void store.updateJob(jobId, ["running"], { phase: next }).catch(() => {});
            if (next !== "preparing") {
              void reporter
                .markInProgress(inProgressRef, next)
                .catch((error: unknown) =>
                  log(`job ${jobId}: phase update: ${(error as Error).message}`),
                );
            }
          },
        },
      );
    }
    clearInterval(progressTimer);
    // The heartbeat goes on until the message is deleted: reporting may wait out a GitHub
    // outage longer than one lease.
    const stop = control.reason;
    if (result.conclusion === "cancelled" && stop?.kind === "lease-lost") {
      log(`job ${jobId}: stopped, another runner holds it now (${stop.message})`);
      await writer.flush().catch(() => {});
      return;
    }
    if (result.conclusion === "cancelled" && stop?.kind === "shutdown") {
      stopWatch();
      say("runner shutting down: the job goes back to the queue and runs again");
      await giveBack(ctx, received, writer, "the runner shut down", 0, ref);
      return;
    }
    // The lease must still be ours, or another runner reports this job.
    if (control.reason?.kind === "lease-lost") throw new ConflictError(control.reason.message);
    await store.renewLease(jobId, ctx.owner, settings.leaseMs);
    confirmedAt = Date.now();
    await writer.flush().catch((error: unknown) => {
      log(`job ${jobId}: log not fully stored: ${(error as Error).message}`);
    });
    if (writer.isRevoked)
      throw new ConflictError(`job ${jobId}: the lease moved to another runner`);
    const reason =
      result.conclusion === "cancelled" && stop?.kind === "cancel" ? stop.message : undefined;
    const finalRef = ref;
    await gh("complete the check run", () =>
      reporter.complete(
        finalRef,
        {
          conclusion: result.conclusion,
          ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
          durations: toSeconds(result.durations),
          ...(result.cacheKey !== undefined ? { cacheKey: result.cacheKey } : {}),
          ...(result.cacheHit !== undefined ? { cacheHit: result.cacheHit } : {}),
          ...(result.cacheMissReasons ? { cacheMissReasons: result.cacheMissReasons } : {}),
          logUrl,
          ...(reason ? { reason } : {}),
        },
        tail.text,
      ),
    );
    await store.transitionJob(jobId, ["running"], {
      status: "completed",
      conclusion: result.conclusion,
      durations: toSeconds(result.durations),
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(result.cacheKey !== undefined ? { cacheKey: result.cacheKey } : {}),
      ...(result.cacheHit !== undefined ? { cacheHit: result.cacheHit } : {}),
      ...(reason ? { message: reason } : {}),
      finishedAt: Date.now(),
    });
    await queue.delete(received.receipt);
    log(`job ${jobId}: ${result.conclusion}`);
  } catch (error) {
    clearInterval(progressTimer);
    stopWatch?.();
    await handleFailure(ctx, received, error, { writer, say, ref, logUrl, control });
  } finally {
    clearInterval(progressTimer);
    stopWatch?.();
    await checkout?.remove().catch(() => {});
  }
}
