import type { Context } from "probot";
import type { AppDeps } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";
import { startBuild, type StartBuildOutcome } from "./start-build.js";

/** A push to a branch builds its head commit; tag pushes and branch deletions build nothing. */
export async function handlePush(
  deps: AppDeps,
  context: Context<"push">,
): Promise<StartBuildOutcome | { outcome: "ignored"; why: string }> {
  const { payload } = context;
  if (!payload.ref.startsWith("refs/heads/")) return { outcome: "ignored", why: "not a branch" };
  if (payload.deleted || !payload.head_commit) {
    return { outcome: "ignored", why: "branch deleted" };
  }
  const { owner, repo, repository } = repositoryFacts(payload.repository);
  return startBuild(deps, {
    octokit: context.octokit,
    log: context.log,
    deliveryId: context.id,
    owner,
    repo,
    facts: {
      event: "push",
      installationId: installationIdOf(payload),
      repository,
      sha: payload.after,
      ref: payload.ref,
      trigger: payload.pusher.name ?? payload.sender?.login ?? "push",
    },
    skipTexts: [payload.head_commit.message],
  });
}
