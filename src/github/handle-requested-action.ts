import type { Context } from "probot";
import { ChecksReporter } from "../checks/checks-reporter.js";
import type { AppDeps } from "./app-deps.js";
import { cancelJob } from "./cancel-job.js";
import { repositoryFacts } from "./repository-facts.js";

/** The check run's "Cancel" button (action identifier `cancel`) cancels its job. */
export async function handleRequestedAction(
  deps: AppDeps,
  context: Context<"check_run.requested_action">,
): Promise<
  { outcome: "ignored"; why: string } | { outcome: "cancelled" | "requested" | "finished" }
> {
  const { payload } = context;
  if (payload.requested_action?.identifier !== "cancel") {
    return { outcome: "ignored", why: `unknown action ${payload.requested_action?.identifier}` };
  }
  const jobId = payload.check_run.external_id;
  const job = jobId ? await deps.store.getJob(jobId) : undefined;
  if (!job || job.repoId !== payload.repository.id) {
    return { outcome: "ignored", why: `no job ${jobId || "(empty external_id)"}` };
  }
  const { owner, repo } = repositoryFacts(payload.repository);
  const who = payload.sender?.login ?? "someone on GitHub";
  const outcome = await cancelJob(
    deps,
    new ChecksReporter(context.octokit, { now: deps.now }),
    { owner, repo },
    job,
    `Cancelled by ${who}.`,
  );
  return { outcome };
}
