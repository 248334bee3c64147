import type { Context } from "probot";
import type { EventFacts } from "../core/plan-jobs.js";
import type { BuildRecord } from "../store/port.js";
import type { AppDeps } from "./app-deps.js";
import { installationIdOf, repositoryFacts, type PayloadRepository } from "./repository-facts.js";
import { startBuild, type StartBuildOutcome } from "./start-build.js";

/**
 * GitHub's "Re-run" on one check run: plans that job's hook again at that commit, with the
 * trust of the build it came from. A check run Kozmic has no job for (the configuration
 * check) re-runs the whole commit.
 */
export async function handleCheckRunRerequested(
  deps: AppDeps,
  context: Context<"check_run.rerequested">,
): Promise<StartBuildOutcome> {
  const { payload } = context;
  const run = payload.check_run;
  const job = run.external_id ? await deps.store.getJob(run.external_id) : undefined;
  const build = job ? await deps.store.getBuild(job.buildId) : undefined;
  if (!job || !build || job.repoId !== payload.repository.id) {
    return rerunCommit(
      deps,
      context,
      payload.repository,
      run.head_sha,
      run.check_suite?.head_branch,
    );
  }
  return rerun(deps, context, payload.repository, build, [job.hook]);
}

/** GitHub's "Re-run all checks": every hook of the commit again. */
export async function handleCheckSuiteRerequested(
  deps: AppDeps,
  context: Context<"check_suite.rerequested">,
): Promise<StartBuildOutcome> {
  const suite = context.payload.check_suite;
  return rerunCommit(deps, context, context.payload.repository, suite.head_sha, suite.head_branch);
}

type RerunContext = Context<"check_run.rerequested"> | Context<"check_suite.rerequested">;

async function rerunCommit(
  deps: AppDeps,
  context: RerunContext,
  repository: PayloadRepository,
  sha: string,
  headBranch: string | null | undefined,
): Promise<StartBuildOutcome> {
  const builds = await deps.store.findBuildsByCommit(repository.id, sha);
  const latest = builds[builds.length - 1];
  if (latest) return rerun(deps, context, repository, latest);
  // Kozmic never saw this commit, so nothing says it is trusted: a fork's code would look
  // the same from here. Untrusted is the safe reading.
  const facts = baseFacts(context, repository, {
    sha,
    ref: headBranch ? `refs/heads/${headBranch}` : sha,
    trust: "untrusted",
  });
  return start(deps, context, repository, facts);
}

function rerun(
  deps: AppDeps,
  context: RerunContext,
  repository: PayloadRepository,
  build: BuildRecord,
  onlyHooks?: string[],
): Promise<StartBuildOutcome> {
  const facts = baseFacts(context, repository, {
    sha: build.sha,
    ref: build.ref,
    trust: build.trust,
  });
  if (build.pullRequest !== undefined) facts.pullRequest = build.pullRequest;
  if (onlyHooks) facts.onlyHooks = onlyHooks;
  return start(deps, context, repository, facts, build.createdAt);
}

function baseFacts(
  context: RerunContext,
  repository: PayloadRepository,
  facts: Pick<EventFacts, "sha" | "ref" | "trust">,
): EventFacts {
  return {
    event: "rerun",
    installationId: installationIdOf(context.payload),
    repository: repositoryFacts(repository).repository,
    trigger: `rerun by ${context.payload.sender?.login ?? "GitHub"}`,
    ...facts,
  };
}

function start(
  deps: AppDeps,
  context: RerunContext,
  repository: PayloadRepository,
  facts: EventFacts,
  lineTime?: number,
): Promise<StartBuildOutcome> {
  const { owner, repo } = repositoryFacts(repository);
  return startBuild(deps, {
    octokit: context.octokit,
    log: context.log,
    deliveryId: context.id,
    owner,
    repo,
    facts,
    ...(lineTime !== undefined ? { lineTime } : {}),
  });
}
