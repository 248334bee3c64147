import type { Context } from "probot";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";

/** The check run's "Cancel" button (action identifier `cancel`) cancels its job. */
export async function handleRequestedAction(
  deps: AppDeps,
  context: Context<"check_run.requested_action">,
): Promise<EnqueueOutcome | { outcome: "ignored"; why: string }> {
  const { payload } = context;
  if (payload.requested_action?.identifier !== "cancel") {
    return { outcome: "ignored", why: `unknown action ${payload.requested_action?.identifier}` };
  }
  const jobId = payload.check_run.external_id;
  if (!jobId) return { outcome: "ignored", why: "the check run has no external_id" };
  return enqueuePlan(deps, context.id, {
    installationId: installationIdOf(payload),
    repository: repositoryFacts(payload.repository).repository,
    task: {
      kind: "cancel",
      jobId: clip(jobId, 200),
      actor: clip(payload.sender?.login ?? "someone on GitHub", 200),
    },
  });
}
