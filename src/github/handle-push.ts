import type { Context } from "probot";
import { shouldSkipCi } from "../core/skip-ci.js";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";

/**
 * A push to a branch or tag builds its head commit (a tag only the hooks whose `tags:` match);
 * deletions build nothing.
 */
export async function handlePush(
  deps: AppDeps,
  context: Context<"push">,
): Promise<EnqueueOutcome | { outcome: "ignored"; why: string }> {
  const { payload } = context;
  // A tag push runs only the hooks that list `tags:`, which the planner reads at the commit.
  if (!payload.ref.startsWith("refs/heads/") && !payload.ref.startsWith("refs/tags/")) {
    return { outcome: "ignored", why: "not a branch or tag" };
  }
  if (payload.deleted || !payload.head_commit) {
    return { outcome: "ignored", why: "branch or tag deleted" };
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
      ...(/^[0-9a-f]{40}$/.test(payload.before) ? { before: payload.before } : {}),
      trigger: clip(payload.pusher.name ?? payload.sender?.login ?? "push"),
      ...(payload.repository.default_branch
        ? { defaultBranch: clip(payload.repository.default_branch, 255) }
        : {}),
    },
  });
}
