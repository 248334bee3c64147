import type { CheckRunRef } from "../../src/checks/checks-reporter.js";
import type { LogTail } from "../logs/log-tail.js";
import type { JobPhase } from "../pipeline/run-job.js";
import { timed } from "../pipeline/step-timings.js";
import { withGitHubRetry } from "./github-access.js";
import type { WorkerContext } from "./worker-context.js";

/** What a running job's check run shows: in progress, each later phase, the log's end. */
export interface CheckRunProgress {
  /** The job entered `next`; shown at once if the check run already went in progress. */
  phaseChanged(next: JobPhase): void;
  /**
   * No more updates: a pending one is dropped, those already sent are awaited (the
   * completion or a requeue must reach GitHub after them, or it would be undone).
   */
  stop(): Promise<void>;
}

/**
 * Marks the check run in progress only once the job has run for `inProgressDelayMs`. GitHub
 * asks integrations to pace their writes (one a second per installation), so every write a
 * short job saves is time its completion does not wait: a job that ends within the delay
 * reports once, straight to completed (its `started_at` tells GitHub when it began), and
 * the phase reached by then goes in the one in-progress update. Once in progress, the log's
 * end is shown while it changes.
 */
export function showCheckRunProgress(
  ctx: WorkerContext,
  job: { id: string; installationId: number; ref: CheckRunRef; startedAt: Date; tail: LogTail },
  phase: () => JobPhase,
): CheckRunProgress {
  const reporter = ctx.access(job.installationId).reporter;
  const warn = (what: string) => (error: unknown) =>
    ctx.log(`job ${job.id}: ${what}: ${(error as Error).message}`, "warn");
  let sent: Promise<void> | undefined;
  const phases = new Set<Promise<void>>();
  let stopped = false;
  const markInProgress = () => {
    if (stopped || sent) return;
    sent = timed(ctx.timings, "check run in progress", () =>
      withGitHubRetry(
        "mark the check run in progress",
        () => reporter.markInProgress(job.ref, phase(), job.startedAt),
        ctx.github,
      ),
    ).catch(warn("could not mark the check run in progress"));
  };
  const delayMs = ctx.settings.inProgressDelayMs;
  const inProgressTimer = delayMs > 0 ? setTimeout(markInProgress, delayMs) : undefined;
  if (!inProgressTimer) markInProgress();

  let shownRevision = job.tail.revision;
  let updating: Promise<void> | undefined;
  const tailTimer = setInterval(() => {
    if (job.tail.revision === shownRevision || updating || !sent) return;
    const revision = job.tail.revision;
    // Only a tail GitHub took counts as shown: a dropped (throttled) or failed update is
    // tried again, or a build that went quiet would keep showing an old tail.
    updating = reporter
      .progress(job.ref, phase(), job.tail.text)
      .then((taken) => {
        if (taken) shownRevision = revision;
      })
      .catch(warn("progress update"))
      .finally(() => (updating = undefined));
  }, ctx.settings.progressIntervalMs);

  return {
    phaseChanged(next) {
      if (!sent || stopped) return;
      // After the first update, as GitHub must see them in order.
      const shown = sent.then(() =>
        reporter.markInProgress(job.ref, next).catch(warn("phase update")),
      );
      phases.add(shown);
      void shown.finally(() => phases.delete(shown));
    },
    async stop() {
      stopped = true;
      clearTimeout(inProgressTimer);
      clearInterval(tailTimer);
      await updating;
      await sent;
      await Promise.all(phases);
    },
  };
}
