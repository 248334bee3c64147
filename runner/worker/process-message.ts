import type { CheckRunRef } from "../../src/checks/checks-reporter.js";
import { cacheFork, parseMessageHook } from "../../src/core/job-message.js";
import { settlesNow } from "../../src/core/decide-report.js";
import { jobUrl } from "../../src/core/job-url.js";
import type { Hook } from "../../src/core/config/schema.js";
import { ConflictError } from "../../src/core/errors.js";
import type { ReceivedJob } from "../../src/queue/port.js";
import type { JobRecord } from "../../src/store/port.js";
import { NoSecretsKeyError } from "../../src/secrets/open-vault.js";
import { openJobLog, type JobLog } from "../logs/job-log.js";
import { mergeAnnotations } from "../logs/workflow-commands.js";
import { runJob, type JobPhase, type JobResult } from "../pipeline/run-job.js";
import { timed } from "../pipeline/step-timings.js";
import { fetchSource, type Checkout } from "../source/checkout-commit.js";
import { runnerWorkspaces } from "../source/step-workspaces.js";
import { resolveTrackedFiles } from "../source/resolve-tracked-files.js";
import { finishJob, finishLogged, settleFinished } from "./finish-job.js";
import { withGitHubRetry } from "./github-access.js";
import { giveBack, handleFailure } from "./handle-job-failure.js";
import { BRIEF, PATIENT, retryTransient } from "./store-retry.js";
import { showCheckRunProgress } from "./check-run-progress.js";
import { watchJob } from "./watch-job.js";
import {
  artifactSink,
  messageVisibilitySeconds,
  refOf,
  stopJob,
  type JobControl,
  type WorkerContext,
} from "./worker-context.js";

/** One job as this runner holds it: its message, record, lease and log. */
interface Held extends JobLog {
  received: ReceivedJob;
  hook: Hook;
  job: JobRecord;
  control: JobControl;
  logUrl: string;
  /** Said on the check run too: why the hook's secrets were not given. */
  secretsNote?: string;
  ref?: CheckRunRef;
  lease: Lease;
}

/** The lease as this runner last saw it confirmed. */
interface Lease {
  jobId: string;
  control: JobControl;
  confirmedAt: number;
}

/**
 * One queue message, in the order of a job's life: claim, prepare (check run, cancelled
 * before it started?), run (fetch, install, build), then finish (record the end, report
 * it, delete the message: finish-job.ts). `control` aborts the job from outside (runner
 * shutdown). Never throws: every outcome is reported somewhere.
 */
export async function processMessage(
  received: ReceivedJob,
  ctx: WorkerContext,
  control: JobControl,
): Promise<void> {
  const held = await claim(ctx, received, control);
  if (!held) return;
  // The heartbeat runs from the claim until the end is recorded. Preparing (the check run
  // created through a GitHub outage, a loaded store) may take longer than one lease: the
  // lease would lapse and the message come back meanwhile, and a second runner take the
  // job over and run it beside this one. Recording the end may wait out a store outage,
  // and reporting it a GitHub one.
  const stopWatch = watch(ctx, held);
  let checkout: Checkout | undefined;
  // Containers and volumes are removed while the result is reported, and gone before the
  // slot takes another job.
  const removals: Promise<void>[] = [];
  let ran = false;
  try {
    if (await prepare(ctx, held)) return;
    // Nothing of the job has run yet: a lease lost meanwhile leaves it to its new holder.
    if (!(await confirmLease(ctx, held.lease))) {
      throw new ConflictError(`job ${held.job.id}: the lease moved to another runner`);
    }
    const run = await runHeld(
      ctx,
      held,
      (made) => (checkout = made),
      (removal) => removals.push(removal),
    );
    ran = true;
    await finishRun(ctx, held, run);
  } catch (error) {
    stopWatch();
    const masked = held.masker.maskError(error);
    // A job that ran to its end is never given back for a store or queue failure after it.
    await handleFailure(ctx, received, masked, held, ran);
  } finally {
    stopWatch();
    for (const outcome of await Promise.allSettled(removals)) {
      if (outcome.status === "rejected") {
        ctx.log(`job ${held.job.id}: cleanup: ${(outcome.reason as Error).message}`, "warn");
      }
    }
    await checkout?.remove().catch(() => {});
  }
}

/**
 * Claims the job's lease. A job already finished is reported (if it was not) and its
 * message deleted; one another runner holds is left to it (its heartbeat hides the message).
 */
async function claim(
  ctx: WorkerContext,
  received: ReceivedJob,
  control: JobControl,
): Promise<Held | undefined> {
  const { store, queue, settings, log } = ctx;
  const message = received.body;
  const jobId = message.jobId;
  // A store failure before the job runs is tried again: given back, its claim would be won twice.
  const result = await timed(ctx.timings, "claim", () =>
    retryTransient(() => store.claimJob(jobId, ctx.owner, settings.leaseMs), BRIEF),
  );
  if (result.outcome === "missing") {
    log(`job ${jobId}: not in the store, message dropped`, "warn");
    await queue.delete(received.receipt);
    return undefined;
  }
  // A job finished and being reported by its runner is left to it, as a running one is.
  if (result.outcome === "finished" && settlesNow(result.job, Date.now())) {
    await settleFinished(ctx, received, result.job);
    return undefined;
  }
  if (result.outcome === "held" || result.outcome === "finished") {
    // The holder's receipt no longer moves the message: hand it this one, so its heartbeat
    // keeps the message hidden instead of it coming back (and counting receives) each lease.
    await store
      .updateJob(jobId, [result.job.status], { messageReceipt: received.receipt })
      .catch(() => {});
    return undefined;
  }
  if (result.outcome === "taken-over") {
    log(`job ${jobId}: taken over from ${result.previousOwner} (lease expired)`);
  }
  const lease: Lease = { jobId, control, confirmedAt: Date.now() };
  const jobLog = await timed(ctx.timings, "log position", () =>
    retryTransient(
      () =>
        openJobLog({
          store,
          jobId,
          capBytes: settings.logCapBytes,
          confirm: () => confirmLease(ctx, lease),
          warn: (line) => ctx.log(`job ${jobId}: ${line}`, "warn"),
        }),
      BRIEF,
    ),
  );
  return {
    ...jobLog,
    received,
    hook: parseMessageHook(message),
    job: result.job,
    control,
    logUrl: jobUrl(settings.publicUrl, jobId),
    lease,
  };
}

async function confirmLease(ctx: WorkerContext, lease: Lease): Promise<boolean> {
  if (lease.control.reason?.kind === "lease-lost") return false;
  if (Date.now() - lease.confirmedAt < ctx.settings.leaseMs / 2) return true;
  try {
    await ctx.store.renewLease(lease.jobId, ctx.owner, ctx.settings.leaseMs);
    lease.confirmedAt = Date.now();
    return true;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    stopJob(lease.control, { kind: "lease-lost", message: error.message });
    return false;
  }
}

/**
 * The job's check run (created here for a message that carries none), and a job cancelled
 * while queued ends before it starts. True when the job is done with.
 */
async function prepare(ctx: WorkerContext, held: Held): Promise<boolean> {
  const message = held.received.body;
  let checkRunId = held.job.checkRunId ?? message.checkRunId;
  if (checkRunId === undefined) {
    const [owner, repo] = message.repository.fullName.split("/") as [string, string];
    checkRunId = await withGitHubRetry(
      "create the check run",
      () =>
        ctx.access(message.installationId).reporter.createQueued({
          owner,
          repo,
          name: held.hook.name,
          headSha: message.sha,
          jobId: held.job.id,
          detailsUrl: held.logUrl,
        }),
      ctx.github,
    );
    // Given back without its id, the job would get a second check run from its next runner.
    held.job = await retryTransient(
      () => ctx.store.updateJob(held.job.id, ["running"], { checkRunId }),
      BRIEF,
    );
  }
  held.ref = refOf(message, checkRunId);
  if (!held.job.cancelRequested) return false;
  const reason = held.job.message ?? "cancelled before it started";
  held.say(`cancelled before it started: ${reason}`);
  await finishLogged(ctx, held.received, held, ["running", "queued"], {
    status: "completed",
    conclusion: "cancelled",
    message: reason,
  });
  return true;
}

/** Renews the lease and the message's visibility while the job runs; watches for Cancel. */
function watch(ctx: WorkerContext, held: Held): () => void {
  const { settings } = ctx;
  return watchJob({
    store: ctx.store,
    queue: ctx.queue,
    jobId: held.job.id,
    owner: ctx.owner,
    receipt: () => held.received.receipt,
    leaseMs: settings.leaseMs,
    heartbeatMs: settings.heartbeatMs,
    cancelPollMs: settings.cancelPollMs,
    visibilitySeconds: messageVisibilitySeconds(settings.leaseMs),
    onReceipt: (receipt) => {
      held.received.receipt = receipt;
    },
    onCancel: (message) => stopJob(held.control, { kind: "cancel", message }),
    onRenewed: () => {
      held.lease.confirmedAt = Date.now();
    },
    onLeaseLost: (message) => stopJob(held.control, { kind: "lease-lost", message }),
    onError: (error) =>
      ctx.log(`job ${held.job.id}: heartbeat: ${(error as Error).message}`, "warn"),
  });
}

/** The commit's source, fetched on this host; undefined when the job was cancelled. */
async function fetchCheckout(ctx: WorkerContext, held: Held): Promise<Checkout | undefined> {
  const message = held.received.body;
  held.say(`fetching ${message.repository.fullName} at ${message.sha}`);
  const token = await timed(ctx.timings, "token", () => ctx.access(message.installationId).token());
  const fetch = ctx.fetchSource ?? fetchSource;
  return await timed(ctx.timings, "fetch", () =>
    fetch({
      dataDir: ctx.settings.pipeline.dataDir,
      repositoryId: message.repository.id,
      cloneUrl: message.repository.cloneUrl,
      sha: message.sha,
      ref: message.ref,
      ...(message.pullRequest !== undefined ? { pullRequest: message.pullRequest } : {}),
      token,
      jobId: held.job.id,
      runnerName: ctx.settings.name,
      signal: held.control.signal,
    }),
  ).catch((error: unknown) => {
    if (held.control.signal.aborted) return undefined;
    throw error;
  });
}

/**
 * The hook's secrets, masked from here on; a missing one fails the job before anything
 * runs, as does a runner with no key to open them. None for an untrusted job (a fork's
 * pull request), which runs without them and is told so.
 */
async function secretsOf(ctx: WorkerContext, held: Held): Promise<Record<string, string>> {
  const names = held.hook.secrets;
  const message = held.received.body;
  if (names.length === 0) return {};
  if (message.trust === "untrusted") {
    held.secretsNote =
      `Secrets ${names.join(", ")} were not given to this job: it runs code from a fork, ` +
      "and forks never receive repository secrets. It ran without them.";
    held.say(held.secretsNote);
    return {};
  }
  if (!ctx.secrets) throw new NoSecretsKeyError(`runner ${ctx.settings.name}`);
  const values = await ctx.secrets.read(message.repository.id, names);
  held.masker.add(Object.values(values));
  return values;
}

async function runHeld(
  ctx: WorkerContext,
  held: Held,
  onCheckout: (checkout: Checkout) => void,
  deferCleanup: (removal: Promise<void>) => void,
): Promise<JobResult> {
  const { settings } = ctx;
  const message = held.received.body;
  const jobId = held.job.id;
  let phase: JobPhase = "preparing";
  const progress = showCheckRunProgress(
    ctx,
    {
      id: jobId,
      installationId: message.installationId,
      ref: held.ref!,
      startedAt: new Date(held.job.startedAt ?? Date.now()),
      tail: held.tail,
    },
    () => phase,
  );
  held.say(
    `runner ${settings.name} runs job ${jobId} (${message.repository.fullName}@${message.sha.slice(0, 12)}, ` +
      `hook "${held.hook.name}", attempt ${held.received.receiveCount} of ${settings.maxReceives})`,
  );
  try {
    const secrets = await secretsOf(ctx, held);
    const checkout = await fetchCheckout(ctx, held);
    if (!checkout) {
      return { conclusion: "cancelled", durations: { pull: 0, install: 0, build: 0, total: 0 } };
    }
    onCheckout(checkout);
    const trackedFiles = await timed(ctx.timings, "tracked files", () =>
      resolveTrackedFiles(checkout.dir, held.hook.tracked_files),
    );
    return await runJob(
      {
        jobId,
        repositoryId: String(message.repository.id),
        scope: message.trust,
        fork: cacheFork(message),
        hook: held.hook,
        matrix: message.matrix,
        sourceDir: checkout.dir,
        trackedFiles,
        secrets,
      },
      {
        engine: ctx.engine,
        settings: {
          ...settings.pipeline,
          workspacesDir: runnerWorkspaces(settings.pipeline.dataDir, settings.name),
        },
        cacheRecords: ctx.store,
        log: held.sink,
        sections: held.sections,
        signal: held.control.signal,
        timings: ctx.timings,
        fleet: ctx.fleet,
        artifacts: ctx.artifacts && artifactSink(ctx.artifacts, jobId),
        deferCleanup,
        onPhase: (next) => {
          phase = next;
          void ctx.store.updateJob(jobId, ["running"], { phase: next }).catch(() => {});
          if (next !== "preparing") progress.phaseChanged(next);
        },
      },
    );
  } finally {
    // The scripts have ended: what the masker held back is decided.
    held.sink.end();
    // Every update settled (one Octokit still retries included) before anything later
    // reaches the check run (a requeue, the completion), which it would otherwise undo.
    await progress.stop();
  }
}

/**
 * After the run: a job stopped because another runner holds it is left alone, one stopped
 * by a shutdown goes back to the queue, and any other result is the job's end.
 */
async function finishRun(ctx: WorkerContext, held: Held, result: JobResult): Promise<void> {
  const jobId = held.job.id;
  const stop = held.control.reason;
  if (result.conclusion === "cancelled" && stop?.kind === "lease-lost") {
    ctx.log(`job ${jobId}: stopped, another runner holds it now (${stop.message})`);
    await held.writer.flush().catch(() => {});
    return;
  }
  if (result.conclusion === "cancelled" && stop?.kind === "shutdown") {
    held.say("runner shutting down: the job goes back to the queue and runs again");
    await giveBack(ctx, held.received, held.writer, "the runner shut down", 0, held.ref);
    return;
  }
  // The lease must still be ours, or another runner reports this job.
  if (stop?.kind === "lease-lost") throw new ConflictError(stop.message);
  const leaseLost = () => held.control.reason?.kind === "lease-lost";
  await timed(ctx.timings, "lease check", () =>
    retryTransient(
      () => ctx.store.renewLease(jobId, ctx.owner, ctx.settings.leaseMs),
      PATIENT,
      leaseLost,
    ),
  );
  await timed(ctx.timings, "log flush", () => held.writer.flush()).catch((error: unknown) => {
    ctx.log(`job ${jobId}: log not fully stored: ${(error as Error).message}`, "warn");
  });
  if (held.writer.isRevoked)
    throw new ConflictError(`job ${jobId}: the lease moved to another runner`);
  await held.sections.flush();
  const reason =
    result.conclusion === "cancelled" && stop?.kind === "cancel" ? stop.message : undefined;
  await finishJob(
    ctx,
    held.received,
    {
      status: "completed",
      conclusion: result.conclusion,
      durations: result.durations,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(result.cacheKey !== undefined ? { cacheKey: result.cacheKey } : {}),
      ...(result.cacheHit !== undefined ? { cacheHit: result.cacheHit } : {}),
      ...(result.cacheMissReasons ? { cacheMissReasons: result.cacheMissReasons } : {}),
      ...(reason ? { message: reason } : held.secretsNote ? { message: held.secretsNote } : {}),
      ...testsOf(held, result),
      logChunks: held.writer.chunksStored,
    },
    { from: ["running"], tail: held.tail.text, stop: leaseLost },
  );
  ctx.log(`job ${jobId}: ${result.conclusion}`);
}

/**
 * The annotations of the `::error` lines and of the failed tests (whose messages and names
 * are the job's output too: masked as its log is), and the tests' counts.
 */
function testsOf(held: Held, result: JobResult) {
  const mask = (text: string) => held.masker.mask(text);
  const tests = (result.tests?.annotations ?? []).map((a) => ({
    ...a,
    message: mask(a.message),
    ...(a.title !== undefined ? { title: mask(a.title) } : {}),
  }));
  const annotations = mergeAnnotations(held.commands.end(), tests);
  return {
    ...(annotations.length > 0 ? { annotations } : {}),
    ...(result.tests ? { tests: result.tests.counts } : {}),
  };
}
