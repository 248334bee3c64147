import type { Context } from "probot";
import { shouldSkipCi } from "../core/skip-ci.js";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { installationIdOf, repositoryFacts } from "./repository-facts.js";

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
): Promise<EnqueueOutcome | { outcome: "ignored"; why: string }> {
  const { payload } = context;
  const pull = payload.pull_request;
  if (shouldSkipCi([pull.title])) return { outcome: "ignored", why: "skip-ci" };
  const sameRepository = pull.head.repo?.id === payload.repository.id;
  return enqueuePlan(deps, context.id, {
    installationId: installationIdOf(payload),
    repository: repositoryFacts(payload.repository).repository,
    task: {
      kind: "build",
      event: "pull_request",
      sha: pull.head.sha,
      ref: `refs/pull/${pull.number}/head`,
      pullRequest: pull.number,
      baseRef: pull.base.ref,
      headRepositoryFullName: pull.head.repo?.full_name ?? null,
      headRepositoryId: pull.head.repo?.id ?? null,
      trigger: clip(payload.sender?.login ?? pull.user?.login ?? "pull request"),
      ...(sameRepository ? { alsoSupersedeLines: [`branch:${pull.head.ref}`] } : {}),
    },
  });
}
