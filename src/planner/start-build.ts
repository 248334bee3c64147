import type { Logger } from "probot";
import { ChecksReporter, type RequestOctokit } from "../checks/checks-reporter.js";
import { parseConfig } from "../core/config/parse-config.js";
import { ConfigError, type ConfigIssue } from "../core/errors.js";
import { planJobs, type EventFacts, type PlannedJob } from "../core/plan-jobs.js";
import { shouldSkipCi } from "../core/skip-ci.js";
import type { BuildRecord } from "../store/port.js";
import { jobUrl, type AppDeps } from "./app-deps.js";
import { cancelJob } from "./cancel-job.js";
import { readConfigAt } from "./read-config-at.js";

export interface StartBuildInput {
  octokit: RequestOctokit;
  log: Logger;
  deliveryId: string;
  owner: string;
  repo: string;
  facts: EventFacts;
  /** Head commit message and pull request title, checked for `[skip ci]`. */
  skipTexts?: readonly (string | null | undefined)[];
  /**
   * More lines the jobs supersede on besides their own, e.g. `branch:feature` for a pull
   * request from that branch: whichever of the push and the pull request built a commit, the
   * next commit then supersedes it.
   */
  alsoSupersedeLines?: readonly string[];
  /**
   * The time the commit joined its line (epoch ms). A re-run passes its build's, so that
   * re-running an old commit never supersedes a newer one. Default: now.
   */
  lineTime?: number;
}

export type StartBuildOutcome =
  | { outcome: "skip-ci" }
  | { outcome: "no-config" }
  | { outcome: "duplicate-delivery" }
  | { outcome: "already-built"; buildId: string }
  | { outcome: "invalid-config"; buildId: string; checkRunId: number }
  | { outcome: "queued"; buildId: string; jobIds: string[]; superseded: string[] };

/**
 * The step every build-starting event shares: skip-ci, config at the commit, de-duplication
 * (delivery id, then commit), then plan, record, one queued check run and one queue
 * message per job, and cancel what the new jobs supersede. Re-runs skip the commit check.
 */
export async function startBuild(
  deps: AppDeps,
  input: StartBuildInput,
): Promise<StartBuildOutcome> {
  const { facts, owner, repo } = input;
  const rerun = facts.event === "rerun";
  if (!rerun && shouldSkipCi(input.skipTexts ?? [])) return { outcome: "skip-ci" };

  // Read before recording anything, so that a GitHub failure here leaves a redelivery free to work.
  const file = await readConfigAt(input.octokit, owner, repo, facts.sha);
  if (file.kind === "missing") return { outcome: "no-config" };

  if (!(await deps.store.recordDelivery(input.deliveryId, deps.now()))) {
    return { outcome: "duplicate-delivery" };
  }
  const claims = [input.deliveryId];
  if (!rerun) {
    const earlier = await deps.store.findBuildsByCommit(facts.repository.id, facts.sha);
    const built = await firstBuildOnGitHub(deps, earlier);
    if (built) return { outcome: "already-built", buildId: built.id };
    // A push and a pull request for one commit arrive together: one atomic claim decides.
    const claim = `commit:${facts.repository.id}:${facts.sha}`;
    if (!(await deps.store.recordDelivery(claim, deps.now()))) {
      return { outcome: "already-built", buildId: "(being planned by another delivery)" };
    }
    claims.push(claim);
  }
  // Nothing of this delivery reached GitHub: let GitHub's "Redeliver" (same id) try again.
  const release = async () => {
    for (const claim of claims) {
      await deps.store
        .forgetDelivery(claim)
        .catch((error: unknown) => input.log.error({ err: error, claim }, "release failed"));
    }
  };

  const reporter = new ChecksReporter(input.octokit, { now: deps.now });
  let issues: readonly ConfigIssue[] | undefined;
  let plan;
  try {
    if (file.kind === "unreadable") throw new ConfigError(file.issue.message, [file.issue]);
    plan = planJobs(parseConfig(file.text), facts, { newId: deps.newId, now: deps.now() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues = error.issues;
  }
  if (issues || !plan) {
    // A build without jobs still records the commit as handled, and the trust a re-run keeps.
    const empty = planJobs({ hooks: [] }, facts, { newId: deps.newId, now: deps.now() });
    let checkRunId: number;
    try {
      checkRunId = await reporter.reportConfigurationError({
        owner,
        repo,
        headSha: facts.sha,
        issues: issues ?? [],
      });
    } catch (error) {
      await release();
      throw error;
    }
    await deps.store.createBuild(empty.build, []);
    return { outcome: "invalid-config", buildId: empty.build.id, checkRunId };
  }

  await deps.store.createBuild(
    plan.build,
    plan.jobs.map((job) => job.record),
  );
  const sent = new Set<string>();
  const onGitHub = new Map<string, number>();
  // Settle all first, so no job is still being queued while the failed ones are abandoned.
  const results = await Promise.allSettled(
    plan.jobs.map(async (job) => {
      await queueJob(deps, reporter, input, job, onGitHub);
      sent.add(job.record.id);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await abandonUnsent(deps, reporter, input, plan.jobs, sent, onGitHub, failed.reason);
    if (onGitHub.size === 0) await release();
    throw failed.reason;
  }
  const superseded = await supersedeOlder(deps, reporter, input, plan.build, plan.jobs);
  return {
    outcome: "queued",
    buildId: plan.build.id,
    jobIds: plan.jobs.map((job) => job.record.id),
    superseded,
  };
}

async function queueJob(
  deps: AppDeps,
  reporter: ChecksReporter,
  input: StartBuildInput,
  job: PlannedJob,
  onGitHub: Map<string, number>,
): Promise<void> {
  const checkRunId = await reporter.createQueued({
    owner: input.owner,
    repo: input.repo,
    name: job.hook.name,
    headSha: input.facts.sha,
    jobId: job.record.id,
    detailsUrl: jobUrl(deps.publicUrl, job.record.id),
  });
  onGitHub.set(job.record.id, checkRunId);
  await deps.store.updateJob(job.record.id, ["queued"], { checkRunId });
  await deps.queue.send({ ...job.message, checkRunId });
}

/**
 * Jobs left without a message would wait forever: end them as errored, saying why, and
 * complete the check runs that did reach GitHub as an infrastructure failure.
 */
async function abandonUnsent(
  deps: AppDeps,
  reporter: ChecksReporter,
  input: StartBuildInput,
  jobs: readonly PlannedJob[],
  sent: ReadonlySet<string>,
  onGitHub: ReadonlyMap<string, number>,
  cause: unknown,
): Promise<void> {
  const message = `Kozmic could not queue this job: ${(cause as Error).message ?? String(cause)}`;
  for (const job of jobs) {
    if (sent.has(job.record.id)) continue;
    await deps.store
      .transitionJob(job.record.id, ["queued"], {
        status: "errored",
        message,
        finishedAt: deps.now(),
      })
      .catch((error: unknown) =>
        input.log.error({ err: error, jobId: job.record.id }, "abandon failed"),
      );
    const checkRunId = onGitHub.get(job.record.id);
    if (checkRunId === undefined) continue;
    await reporter
      .completeInfrastructureFailure(
        { owner: input.owner, repo: input.repo, checkRunId },
        `${message}. Use "Re-run" to try again.`,
        jobUrl(deps.publicUrl, job.record.id),
      )
      .catch((error: unknown) =>
        input.log.error({ err: error, jobId: job.record.id }, "abandoned check run not completed"),
      );
  }
}

/**
 * The first of a commit's builds that reached GitHub. A build whose every job was abandoned
 * before its check run was created never did: the commit may be built again.
 */
async function firstBuildOnGitHub(
  deps: AppDeps,
  builds: readonly BuildRecord[],
): Promise<BuildRecord | undefined> {
  for (const build of builds) {
    const jobs = await deps.store.listJobs(build.id);
    const abandoned = jobs.length > 0 && jobs.every((j) => j.status === "errored" && !j.checkRunId);
    if (!abandoned) return build;
  }
  return undefined;
}

async function supersedeOlder(
  deps: AppDeps,
  reporter: ChecksReporter,
  input: StartBuildInput,
  build: BuildRecord,
  jobs: readonly PlannedJob[],
): Promise<string[]> {
  const cancelled: string[] = [];
  const where =
    build.pullRequest !== undefined
      ? `pull request #${build.pullRequest}`
      : build.ref.replace(/^refs\/heads\//, "branch ");
  const reason =
    build.event === "rerun"
      ? `Superseded by a re-run of ${build.sha.slice(0, 7)} on ${where}.`
      : `Superseded by ${build.sha.slice(0, 7)}, a newer commit on ${where}.`;
  for (const job of jobs) {
    if (!job.cancelSuperseded) continue;
    const keys = [
      job.supersede,
      ...(input.alsoSupersedeLines ?? []).map((line) => ({ ...job.supersede, line })),
    ];
    const older = new Set<string>();
    for (const key of keys) {
      const ids = await deps.store.recordLatest(
        key,
        build.sha,
        job.record.id,
        input.lineTime ?? build.createdAt,
      );
      for (const id of ids) older.add(id);
    }
    for (const id of older) {
      const old = await deps.store.getJob(id);
      if (!old) continue;
      const result = await cancelJob(
        deps,
        reporter,
        { owner: input.owner, repo: input.repo },
        old,
        reason,
      );
      if (result !== "finished") cancelled.push(id);
    }
  }
  return cancelled;
}
