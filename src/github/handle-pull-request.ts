import type { Context } from "probot";
import type { AppDeps } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";
import { startBuild, type StartBuildOutcome } from "./start-build.js";

/** The pull request actions that bring a new head commit to build. */
export const PULL_REQUEST_ACTIONS = [
  "pull_request.opened",
  "pull_request.synchronize",
  "pull_request.reopened",
] as const;

/**
 * Builds a pull request's head commit. A head in another repository (a fork) makes the build
 * untrusted (planJobs decides from the head repository's full name).
 */
export async function handlePullRequest(
  deps: AppDeps,
  context: Context<(typeof PULL_REQUEST_ACTIONS)[number]>,
): Promise<StartBuildOutcome> {
  const { payload } = context;
  const pull = payload.pull_request;
  const { owner, repo, repository } = repositoryFacts(payload.repository);
  const sameRepository = pull.head.repo?.id === payload.repository.id;
  return startBuild(deps, {
    octokit: context.octokit,
    log: context.log,
    deliveryId: context.id,
    owner,
    repo,
    facts: {
      event: "pull_request",
      installationId: installationIdOf(payload),
      repository,
      sha: pull.head.sha,
      ref: `refs/pull/${pull.number}/head`,
      pullRequest: pull.number,
      headRepositoryFullName: pull.head.repo?.full_name ?? null,
      trigger: payload.sender?.login ?? pull.user?.login ?? "pull request",
    },
    skipTexts: [pull.title],
    ...(sameRepository ? { alsoSupersedeLines: [`branch:${pull.head.ref}`] } : {}),
  });
}
