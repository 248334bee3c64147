import { ChecksReporter, type RequestOctokit } from "../checks/checks-reporter.js";
import { parseConfig } from "../core/config/parse-config.js";
import { ConfigError, ConflictError, type ConfigIssue } from "../core/errors.js";
import type { Config } from "../core/config/schema.js";
import { needsChangedFiles } from "../core/hook-conditions.js";
import { scheduleId, type ScheduleRecord } from "../core/schedules.js";
import { planJobs, type EventFacts, type Plan, type PlannedJob } from "../core/plan-jobs.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { ANY_STATUS } from "../store/store-rules.js";
import { cancelJob } from "./cancel-job.js";
import { derivedIds, rerunSeed } from "./derived-ids.js";
import { listChangedFiles } from "./list-changed-files.js";
import { isPermanent } from "./plan-failure.js";
import { jobUrl } from "../core/job-url.js";
import type { PlannerDeps } from "./planner-deps.js";
import { readConfigAt } from "./read-config-at.js";

export interface StartBuildInput {
  octokit: RequestOctokit;
  deliveryId: string;
  owner: string;
  repo: string;
  facts: EventFacts;
  /**
   * More lines the jobs supersede on besides their own, e.g. `branch:feature` for a pull
   * request from that branch: whichever of the push and the pull request built a commit, the
   * next commit then supersedes it.
   */
  alsoSupersedeLines?: readonly string[];
  /**
   * The time the commit joined its line (epoch ms). A re-run passes its build's, so that
   * re-running an old commit never supersedes a newer one. Default: the build's creation.
   */
  lineTime?: number;
  /** Pushes: the commit before, whose comparison with `sha` gives the changed files. */
  before?: string;
  /** Pushes: the repository's default branch, whose configuration holds its `schedule:`. */
  defaultBranch?: string;
}

export type StartBuildOutcome =
  | { outcome: "no-config" }
  /** The conditions of every hook left it out: no build, no check run. */
  | { outcome: "nothing-to-run" }
  | { outcome: "already-built"; buildId: string }
  | { outcome: "invalid-config"; buildId: string; checkRunId: number }
  | { outcome: "queued"; buildId: string; jobIds: string[]; superseded: string[] };

/**
 * Plans a commit's hooks and puts them on GitHub and the job queue: config at the commit,
 * one build per commit (push and pull request alike; a re-run is a build of its own), one
 * queued check run and one job message per job, then cancels what the new jobs supersede.
 *
 * Safe to run again for the same delivery after a crash or a GitHub failure at any point:
 * ids derive from the commit (a re-run: from its delivery), the build records the delivery
 * that made it, and a resumed build finds its check runs by external id before creating
 * any. A job's message is sent before its check run id is recorded, so a job with a
 * recorded id has its message.
 */
export async function startBuild(
  deps: PlannerDeps,
  input: StartBuildInput,
): Promise<StartBuildOutcome> {
  const { facts, owner, repo } = input;
  // A re-run, a run by hand or on a schedule is a build of its own, whoever built the commit before.
  const rerun = facts.event === "rerun" || facts.event === "manual" || facts.event === "schedule";
  const file = await readConfigAt(input.octokit, owner, repo, facts.sha);
  if (file.kind === "missing") {
    await keepSchedules(deps, input, []);
    return { outcome: "no-config" };
  }

  const seed = rerun
    ? rerunSeed(facts.repository.id, input.deliveryId)
    : `commit:${facts.repository.id}:${facts.sha}`;
  const context = { newId: derivedIds(seed), now: deps.now() };
  let issues: readonly ConfigIssue[] | undefined;
  let config: Config | undefined;
  try {
    if (file.kind === "unreadable") throw new ConfigError(file.issue.message, [file.issue]);
    config = parseConfig(file.text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues = error.issues;
  }
  // A configuration with problems leaves the schedules as the last good one set them.
  if (config) await keepSchedules(deps, input, config.schedule ?? []);
  // A build without jobs still records the commit as handled, and the trust a re-run keeps.
  const planned = config ? await withChangedFiles(input, config) : facts;
  let plan = planJobs(config ?? { hooks: [] }, planned, context);
  if (config && facts.event !== "rerun" && plan.jobs.length === 0 && plan.skipped.length === 0) {
    return { outcome: "nothing-to-run" };
  }
  plan.build.deliveryId = input.deliveryId;

  let claimed = await claimBuild(deps, plan, rerun);
  if (claimed.outcome === "already-built" && config && !rerun && hasConditions(config)) {
    // This delivery's event or branch may run hooks the commit's earlier build left out.
    const more = await planLeftOut(deps, input, config, planned, claimed.buildId);
    if (more) {
      plan = more;
      claimed = await claimBuild(deps, plan, true);
    }
  }
  if (claimed.outcome === "already-built") return claimed;
  const { build, resumed } = claimed;
  const reporter = new ChecksReporter(input.octokit, { now: deps.now });
  const existingRuns = resumed
    ? await findCheckRunsByExternalId(input.octokit, { owner, repo }, facts.sha)
    : new Map<string, number>();

  if (issues) {
    // The external id of the build's "Kozmic configuration" check run.
    const externalId = `config:${build.id}`;
    const checkRunId =
      existingRuns.get(externalId) ??
      (await reporter.reportConfigurationError({
        owner,
        repo,
        headSha: facts.sha,
        issues,
        externalId,
      }));
    return { outcome: "invalid-config", buildId: build.id, checkRunId };
  }

  const records = resumed
    ? new Map((await deps.store.listJobs(build.id)).map((job) => [job.id, job]))
    : new Map(plan.jobs.map((job) => [job.record.id, job.record]));
  try {
    // Waiting jobs first: each has its check run before any job it needs can end.
    for (const status of ["waiting", "queued"] as const) {
      await Promise.all(
        plan.jobs.map((job) =>
          queueJob(deps, reporter, input, job, records.get(job.record.id), existingRuns, status),
        ),
      );
    }
  } catch (error) {
    if (isPermanent(error)) await abandonUnqueued(deps, plan.jobs, error);
    throw error;
  }
  for (const skipped of plan.skipped) {
    const externalId = `skip:${build.id}:${skipped.name}`;
    if (existingRuns.has(externalId)) continue;
    await reporter.reportSkipped({
      owner,
      repo,
      name: skipped.name,
      headSha: facts.sha,
      reason: skipped.reason,
      externalId,
    });
  }
  const superseded = await supersedeOlder(deps, reporter, input, build, plan.jobs);
  return {
    outcome: "queued",
    buildId: build.id,
    jobIds: plan.jobs.map((job) => job.record.id),
    superseded,
  };
}

/** The facts with the files the push or pull request changed, when some hook's paths ask. */
async function withChangedFiles(input: StartBuildInput, config: Config): Promise<EventFacts> {
  const { facts } = input;
  if (facts.event !== "push" && facts.event !== "pull_request") return facts;
  if (!needsChangedFiles(config.hooks)) return facts;
  const changedFiles = await listChangedFiles(
    input.octokit,
    { owner: input.owner, repo: input.repo },
    facts.pullRequest !== undefined
      ? { pullRequest: facts.pullRequest }
      : { before: input.before, sha: facts.sha },
  );
  return changedFiles ? { ...facts, changedFiles } : facts;
}

function hasConditions(config: Config): boolean {
  const conditions = ["on", "branches", "tags", "paths", "paths_ignore"] as const;
  return config.hooks.some((hook) => conditions.some((key) => hook[key] !== undefined));
}

/**
 * A second build of a commit for the hooks this delivery runs that no other delivery's build
 * of it has a job for: the push to `main` of a commit first built on a feature branch, the
 * pull request of a commit its push built. Ids derive from the delivery, so a retry resumes it.
 */
async function planLeftOut(
  deps: PlannerDeps,
  input: StartBuildInput,
  config: Config,
  facts: EventFacts,
  builtBy: string,
): Promise<Plan | undefined> {
  const covered = new Set<string>();
  const builds = await deps.store.findBuildsByCommit(facts.repository.id, facts.sha);
  for (const build of builds.length > 0 ? builds : [{ id: builtBy, deliveryId: undefined }]) {
    if (build.deliveryId === input.deliveryId) continue;
    for (const job of await deps.store.listJobs(build.id)) covered.add(job.hook);
  }
  const now = deps.now();
  const all = planJobs(config, facts, { newId: derivedIds("probe"), now });
  const names = [...all.jobs.map((job) => job.name), ...all.skipped.map((s) => s.name)];
  const left = names.filter((name) => !covered.has(name));
  if (left.length === 0) return undefined;
  const seed = `commit:${facts.repository.id}:${facts.sha}:${input.deliveryId}`;
  const plan = planJobs(config, { ...facts, onlyHooks: left }, { newId: derivedIds(seed), now });
  plan.build.deliveryId = input.deliveryId;
  return plan;
}

/**
 * Records the build, atomically: the first delivery for a commit makes it, a second (the
 * pull request beside the push) finds it made by another delivery, and the same delivery
 * again (a retry) resumes it.
 */
async function claimBuild(
  deps: PlannerDeps,
  plan: Plan,
  rerun: boolean,
): Promise<
  | { outcome: "already-built"; buildId: string }
  | { outcome: "claimed"; build: BuildRecord; resumed: boolean }
> {
  const mine = (build: BuildRecord | undefined) =>
    build !== undefined && build.deliveryId === plan.build.deliveryId;
  const existing = await deps.store.getBuild(plan.build.id);
  if (existing) {
    return mine(existing)
      ? { outcome: "claimed", build: existing, resumed: true }
      : { outcome: "already-built", buildId: existing.id };
  }
  if (!rerun) {
    // A commit built before ids derived from it (or by a re-run first) counts as built.
    const earlier = await deps.store.findBuildsByCommit(plan.build.repoId, plan.build.sha);
    if (earlier[0]) return { outcome: "already-built", buildId: earlier[0].id };
  }
  try {
    await deps.store.createBuild(
      plan.build,
      plan.jobs.map((job) => job.record),
    );
    return { outcome: "claimed", build: plan.build, resumed: false };
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const winner = await deps.store.getBuild(plan.build.id);
    if (mine(winner)) return { outcome: "claimed", build: winner!, resumed: true };
    return { outcome: "already-built", buildId: plan.build.id };
  }
}

/**
 * One job onto GitHub, and a queued one onto the queue, skipping what an earlier attempt did:
 * a job with a check run id recorded has its message (a waiting one keeps it in its record
 * until the jobs it needs succeed: release-dependents.ts); a job no longer `status` belongs to
 * a runner, or was released or cancelled (only the id of its check run is recorded, when an
 * earlier try stopped short of that).
 */
async function queueJob(
  deps: PlannerDeps,
  reporter: ChecksReporter,
  input: StartBuildInput,
  job: PlannedJob,
  record: JobRecord | undefined,
  existingRuns: ReadonlyMap<string, number>,
  status: "waiting" | "queued",
): Promise<void> {
  if (!record || record.checkRunId !== undefined) return;
  // A released job's message is its releaser's to send.
  if (record.releasedBy !== undefined) return;
  if (record.status !== status) {
    // An earlier try sent the message and stopped before recording the check run's id, and a
    // runner took the job since (it may have ended it): the id is still the job's to keep.
    const known = existingRuns.get(job.record.id);
    if (status === "queued" && record.status !== "waiting" && known !== undefined) {
      await deps.store.updateJob(job.record.id, ANY_STATUS, { checkRunId: known });
    }
    return;
  }
  const checkRunId =
    existingRuns.get(job.record.id) ??
    (await reporter.createQueued({
      owner: input.owner,
      repo: input.repo,
      name: job.name,
      headSha: input.facts.sha,
      jobId: job.record.id,
      detailsUrl: jobUrl(deps.publicUrl, job.record.id),
      waitsFor: record.waitsFor ?? [],
    }));
  if (status === "queued") await deps.jobQueue.send({ ...job.message, checkRunId });
  await deps.store.updateJob(job.record.id, ANY_STATUS, { checkRunId });
}

/**
 * GitHub refused the build for good (repository gone, app uninstalled): the jobs that never
 * got a check run would wait forever. End them as errored, saying why, for the log pages.
 */
async function abandonUnqueued(
  deps: PlannerDeps,
  jobs: readonly PlannedJob[],
  cause: unknown,
): Promise<void> {
  const message = `Kozmic could not create this job's check run on GitHub: ${(cause as Error).message ?? String(cause)}`;
  for (const job of jobs) {
    const record = await deps.store.getJob(job.record.id);
    const unsent = record?.status === "queued" || record?.status === "waiting";
    if (!record || !unsent || record.checkRunId !== undefined) continue;
    await deps.store
      .transitionJob(job.record.id, ["queued", "waiting"], {
        status: "errored",
        message,
        finishedAt: deps.now(),
      })
      .catch((error: unknown) =>
        deps.log.error({ err: error, jobId: job.record.id }, "abandon failed"),
      );
  }
}

async function supersedeOlder(
  deps: PlannerDeps,
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

/**
 * A push to the default branch: the repository's schedule entries become those of the
 * configuration it carries (none when it has none). Other events leave them alone. A kept
 * entry keeps the tick it fired last; a new one starts now, never firing for the past.
 */
async function keepSchedules(
  deps: Pick<PlannerDeps, "store" | "now">,
  input: { facts: EventFacts; defaultBranch?: string | undefined },
  entries: NonNullable<Config["schedule"]>,
): Promise<void> {
  const { facts, defaultBranch } = input;
  if (facts.event !== "push" || !defaultBranch || facts.ref !== `refs/heads/${defaultBranch}`) {
    return;
  }
  const repoId = facts.repository.id;
  const now = deps.now();
  const records = new Map<string, ScheduleRecord>();
  for (const { cron, branch = defaultBranch } of entries) {
    const id = scheduleId(repoId, cron, branch);
    records.set(id, {
      id,
      repoId,
      repoFullName: facts.repository.fullName,
      repoPrivate: facts.repository.private,
      installationId: facts.installationId,
      cron,
      branch,
      lastTick: now,
    });
  }
  await deps.store.replaceSchedules(repoId, [...records.values()]);
}

/**
 * The check runs on a commit by external id (Kozmic's job id), for a planner resuming a
 * build: a run created just before a crash is found and kept, never created twice.
 */
async function findCheckRunsByExternalId(
  octokit: RequestOctokit,
  repository: { owner: string; repo: string },
  sha: string,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let page = 1; page <= 20; page++) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repository,
      ref: sha,
      filter: "all",
      per_page: 100,
      page,
    });
    const runs =
      (data as { check_runs?: { id: number; external_id: string | null }[] }).check_runs ?? [];
    for (const run of runs) {
      if (run.external_id && !found.has(run.external_id)) found.set(run.external_id, run.id);
    }
    if (runs.length < 100) break;
  }
  return found;
}
