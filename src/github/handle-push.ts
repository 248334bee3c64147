import type { Context } from "probot";
import { shouldSkipCi } from "../core/skip-ci.js";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";

/** A push to a branch builds its head commit; tag pushes and branch deletions build nothing. */
export async function handlePush(
  deps: AppDeps,
  context: Context<"push">,
): Promise<EnqueueOutcome | { outcome: "ignored"; why: string }> {
  const { payload } = context;
  if (!payload.ref.startsWith("refs/heads/")) return { outcome: "ignored", why: "not a branch" };
  if (payload.deleted || !payload.head_commit) {
    return { outcome: "ignored", why: "branch deleted" };
  }
  if (shouldSkipCi([payload.head_commit.message])) return { outcome: "ignored", why: "skip-ci" };
  return enqueuePlan(deps, context.id, {
    installationId: installationIdOf(payload),
    repository: repositoryFacts(payload.repository).repository,
    task: {
      kind: "build",
      event: "push",
      sha: payload.after,
      ref: payload.ref,
      trigger: clip(payload.pusher.name ?? payload.sender?.login ?? "push"),
    },
  });
}
