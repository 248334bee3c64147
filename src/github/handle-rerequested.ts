import type { Context } from "probot";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";

/** GitHub's "Re-run" on one check run; the planner finds its job and build. */
export async function handleCheckRunRerequested(
  deps: AppDeps,
  context: Context<"check_run.rerequested">,
): Promise<EnqueueOutcome> {
  const { payload } = context;
  const run = payload.check_run;
  return enqueuePlan(deps, context.id, {
    installationId: installationIdOf(payload),
    repository: repositoryFacts(payload.repository).repository,
    task: {
      kind: "rerun-check-run",
      externalId: run.external_id || null,
      sha: run.head_sha,
      headBranch: run.check_suite?.head_branch ?? null,
      actor: clip(payload.sender?.login ?? "GitHub", 200),
    },
  });
}

/** GitHub's "Re-run all checks": every hook of the commit again. */
export async function handleCheckSuiteRerequested(
  deps: AppDeps,
  context: Context<"check_suite.rerequested">,
): Promise<EnqueueOutcome> {
  const { payload } = context;
  return enqueuePlan(deps, context.id, {
    installationId: installationIdOf(payload),
    repository: repositoryFacts(payload.repository).repository,
    task: {
      kind: "rerun-commit",
      sha: payload.check_suite.head_sha,
      headBranch: payload.check_suite.head_branch,
      actor: clip(payload.sender?.login ?? "GitHub", 200),
    },
  });
}
