import { ChecksReporter, type RequestOctokit } from "../checks/checks-reporter.js";
import type { EventFacts } from "../core/plan-jobs.js";
import type { PlanMessage } from "../core/plan-message.js";
import type { BuildRecord } from "../store/port.js";
import { cancelJob } from "./cancel-job.js";
import type { PlannerDeps } from "./planner-deps.js";
import { startBuild, type StartBuildInput, type StartBuildOutcome } from "./start-build.js";

export type PlanOutcome =
  | StartBuildOutcome
  | { outcome: "ignored"; why: string }
  | { outcome: "cancelled" | "requested" | "finished" };

type Repository = PlanMessage["repository"];
type Task<K extends PlanMessage["task"]["kind"]> = Extract<PlanMessage["task"], { kind: K }>;

/**
 * Does one planning message's GitHub work. Throws what GitHub or the adapters threw; the
 * caller retries it later (decideAfterFailure). Running it again for the same message
 * finishes what an earlier attempt began and repeats nothing.
 */
export async function planMessage(deps: PlannerDeps, message: PlanMessage): Promise<PlanOutcome> {
  const octokit = await deps.octokitFor(message.installationId);
  const { task } = message;
  switch (task.kind) {
    case "build": {
      const { kind: _kind, before, defaultBranch, alsoSupersedeLines, ...event } = task;
      const repository = await withCloneUrl(octokit, message.repository);
      const facts = { ...event, installationId: message.installationId, repository };
      return start(deps, octokit, message, facts, { before, defaultBranch, alsoSupersedeLines });
    }
    case "rerun-check-run":
      return rerunCheckRun(deps, octokit, message, task);
    case "rerun-commit":
      return rerunCommit(deps, octokit, message, task);
    case "rerun-build": {
      const build = await deps.store.getBuild(task.buildId);
      if (!build || build.repoId !== message.repository.id) {
        return { outcome: "ignored", why: `no build ${task.buildId} in this repository` };
      }
      return rerun(deps, octokit, message, build, task.actor, task.hook ? [task.hook] : undefined);
    }
    case "manual":
    case "schedule":
      return buildBranchHead(deps, octokit, message, task);
    case "cancel": {
      const job = await deps.store.getJob(task.jobId);
      if (!job || job.repoId !== message.repository.id) {
        return { outcome: "ignored", why: `no job ${task.jobId} in this repository` };
      }
      const outcome = await cancelJob(
        deps,
        new ChecksReporter(octokit, { now: deps.now }),
        ownerAndRepo(message.repository.fullName),
        job,
        `Cancelled by ${task.actor}.`,
      );
      return { outcome };
    }
  }
}

/**
 * GitHub's "Re-run" on one check run: that job's hook again at its commit, with the trust
 * of the build it came from. A run Kozmic has no job for (the configuration check)
 * re-runs the whole commit.
 */
async function rerunCheckRun(
  deps: PlannerDeps,
  octokit: RequestOctokit,
  message: PlanMessage,
  task: Task<"rerun-check-run">,
): Promise<PlanOutcome> {
  const job = task.externalId ? await deps.store.getJob(task.externalId) : undefined;
  const build = job ? await deps.store.getBuild(job.buildId) : undefined;
  if (!job || !build || job.repoId !== message.repository.id) {
    return rerunCommit(deps, octokit, message, task);
  }
  return rerun(deps, octokit, message, build, task.actor, [job.hook]);
}

/**
 * A run asked for by hand, or a schedule's tick: the branch's head now, planned as its own
 * build (never taken for the commit's push build), with the hooks whose `on` allows the
 * event. A tick's delivery id makes its build id, so planning a tick again resumes its build.
 */
async function buildBranchHead(
  deps: PlannerDeps,
  octokit: RequestOctokit,
  message: PlanMessage,
  task: Task<"manual"> | Task<"schedule">,
): Promise<PlanOutcome> {
  let sha: string;
  try {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/branches/{branch}", {
      ...ownerAndRepo(message.repository.fullName),
      branch: task.branch,
    });
    sha = (data as { commit: { sha: string } }).commit.sha;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    return { outcome: "ignored", why: `no branch ${task.branch}` };
  }
  return start(deps, octokit, message, {
    installationId: message.installationId,
    repository: await withCloneUrl(octokit, message.repository),
    sha,
    ref: `refs/heads/${task.branch}`,
    trust: "trusted",
    ...(task.kind === "manual"
      ? { event: "manual", trigger: task.actor, inputs: task.inputs }
      : { event: "schedule", trigger: task.cron }),
  });
}

/** GitHub's "Re-run all checks": every hook of the commit's latest build again. */
async function rerunCommit(
  deps: PlannerDeps,
  octokit: RequestOctokit,
  message: PlanMessage,
  { sha, headBranch, actor }: Task<"rerun-commit"> | Task<"rerun-check-run">,
): Promise<PlanOutcome> {
  const builds = await deps.store.findBuildsByCommit(message.repository.id, sha);
  const latest = builds[builds.length - 1];
  if (latest) return rerun(deps, octokit, message, latest, actor);
  // Kozmic never saw this commit, so nothing says it is trusted: a fork's code would look
  // the same from here. Untrusted is the safe reading.
  return start(deps, octokit, message, {
    event: "rerun",
    installationId: message.installationId,
    repository: await withCloneUrl(octokit, message.repository),
    sha,
    ref: headBranch ? `refs/heads/${headBranch}` : sha,
    trust: "untrusted",
    trigger: `rerun by ${actor}`,
  });
}

async function rerun(
  deps: PlannerDeps,
  octokit: RequestOctokit,
  message: PlanMessage,
  build: BuildRecord,
  actor: string,
  onlyHooks?: string[],
): Promise<PlanOutcome> {
  const facts: EventFacts = {
    event: "rerun",
    installationId: message.installationId,
    repository: await withCloneUrl(octokit, message.repository),
    sha: build.sha,
    ref: build.ref,
    trust: build.trust,
    trigger: `rerun by ${actor}`,
  };
  if (build.pullRequest !== undefined) facts.pullRequest = build.pullRequest;
  if (build.headRepositoryId !== undefined) facts.headRepositoryId = build.headRepositoryId;
  // The whole build again: the hooks it ran, not those its conditions left out.
  const hooks = onlyHooks ?? (await deps.store.listJobs(build.id)).map((job) => job.hook);
  if (hooks.length > 0) facts.onlyHooks = [...new Set(hooks)];
  return start(deps, octokit, message, facts, { lineTime: build.createdAt });
}

function start(
  deps: PlannerDeps,
  octokit: RequestOctokit,
  message: PlanMessage,
  facts: EventFacts,
  more: Pick<StartBuildInput, "lineTime" | "before" | "defaultBranch" | "alsoSupersedeLines"> = {},
): Promise<StartBuildOutcome> {
  return startBuild(deps, {
    octokit,
    deliveryId: message.deliveryId,
    ...ownerAndRepo(message.repository.fullName),
    facts,
    ...more,
  });
}

/** A log-page re-run knows no clone URL (builds keep none): the repository's current one. */
async function withCloneUrl(
  octokit: RequestOctokit,
  repository: Repository,
): Promise<EventFacts["repository"]> {
  if (repository.cloneUrl) return { ...repository, cloneUrl: repository.cloneUrl };
  const { data } = await octokit.request("GET /repos/{owner}/{repo}", {
    ...ownerAndRepo(repository.fullName),
  });
  const current = data as { clone_url: string; private: boolean };
  return { ...repository, cloneUrl: current.clone_url, private: current.private };
}

export function ownerAndRepo(fullName: string): { owner: string; repo: string } {
  const [owner, repo] = fullName.split("/");
  if (!owner || !repo) throw new Error(`"${fullName}" is not an owner/name repository name`);
  return { owner, repo };
}
