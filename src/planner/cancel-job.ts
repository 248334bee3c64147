import type { ChecksReporter } from "../checks/checks-reporter.js";
import { ConflictError } from "../core/errors.js";
import type { JobRecord } from "../store/port.js";
import { jobUrl } from "../core/job-url.js";
import type { PlannerDeps } from "./planner-deps.js";

/**
 * Cancels a job. A queued one ends here and now (cancelled, its check run completed with
 * `reason`); a running one gets its cancel flag, which its runner acts on.
 */
export async function cancelJob(
  deps: Pick<PlannerDeps, "store" | "publicUrl" | "now">,
  reporter: ChecksReporter,
  repository: { owner: string; repo: string },
  job: JobRecord,
  reason: string,
): Promise<"cancelled" | "requested" | "finished"> {
  if (job.status === "completed" || job.status === "errored") return "finished";
  if (job.status === "queued") {
    try {
      const done = await deps.store.transitionJob(job.id, ["queued"], {
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
      return "cancelled";
    } catch (error) {
      // A runner claimed it in between: fall through and flag it instead.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  await deps.store.requestCancel(job.id, reason);
  return "requested";
}
