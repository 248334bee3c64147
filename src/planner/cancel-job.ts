import type { ChecksReporter } from "../checks/checks-reporter.js";
import { ConflictError } from "../core/errors.js";
import type { JobRecord } from "../store/port.js";
import { releaseDependents } from "../store/release-dependents.js";
import { jobUrl } from "../core/job-url.js";
import type { PlannerDeps } from "./planner-deps.js";

type CancelDeps = Pick<PlannerDeps, "store" | "jobQueue" | "publicUrl" | "now">;

/**
 * Cancels a job. A queued or waiting one ends here and now (cancelled, its check run
 * completed with `reason`, the jobs that need it skipped); a running one gets its cancel
 * flag, which its runner acts on.
 */
export async function cancelJob(
  deps: CancelDeps,
  reporter: ChecksReporter,
  repository: { owner: string; repo: string },
  job: JobRecord,
  reason: string,
): Promise<"cancelled" | "requested" | "finished"> {
  if (job.status === "completed" || job.status === "errored") {
    // A retry of a cancel that stopped before its dependents were decided.
    await skipDependents(deps, reporter, repository, job);
    return "finished";
  }
  if (job.status === "queued" || job.status === "waiting") {
    try {
      const done = await deps.store.transitionJob(job.id, ["queued", "waiting"], {
        status: "completed",
        conclusion: "cancelled",
        message: reason,
        finishedAt: deps.now(),
      });
      if (done.checkRunId !== undefined) {
        await reporter.complete(
          { ...repository, checkRunId: done.checkRunId },
          { conclusion: "cancelled", reason, logUrl: jobUrl(deps.publicUrl, job.id) },
        );
        // Else the runner that receives the job's message reports it (settleFinished).
        await deps.store.updateJob(job.id, ["completed"], { reportedAt: deps.now() });
      }
      await skipDependents(deps, reporter, repository, done);
      return "cancelled";
    } catch (error) {
      // A runner claimed it in between: fall through and flag it instead.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  await deps.store.requestCancel(job.id, reason);
  return "requested";
}

async function skipDependents(
  deps: CancelDeps,
  reporter: ChecksReporter,
  repository: { owner: string; repo: string },
  job: JobRecord,
): Promise<void> {
  if (!job.dependents?.length) return;
  await releaseDependents(deps.store, job, {
    send: async (message) => void (await deps.jobQueue.send(message)),
    reportSkipped: (skipped) =>
      reporter.completeSkippedJob(
        { ...repository, headSha: job.sha },
        skipped,
        jobUrl(deps.publicUrl, skipped.id),
      ),
    now: deps.now,
  });
}
