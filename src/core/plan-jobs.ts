import type { Config, Hook, HookInput } from "./config/schema.js";
import { jobMessageSchema, type JobMessage, type TrustScope } from "./job-message.js";
import type { BuildRecord, JobRecord, SupersedeKey } from "./build-records.js";
import {
  combinationName,
  matrixCombinations,
  matrixVariable,
  substituteMatrix,
  type MatrixCombination,
} from "./config/expand-matrix.js";
import { decideHook } from "./hook-conditions.js";

/** What the app learned from a webhook, reduced to the facts planning needs. */
export interface EventFacts {
  event: "push" | "pull_request" | "rerun" | "manual" | "schedule";
  installationId: number;
  repository: { id: number; fullName: string; cloneUrl: string; private: boolean };
  sha: string;
  /** `refs/heads/main` for a push, `refs/pull/7/head` for a pull request. */
  ref: string;
  pullRequest?: number;
  /**
   * For pull requests: the full name of the repository the head branch lives in; `null`
   * when GitHub no longer knows it (deleted fork).
   */
  headRepositoryFullName?: string | null;
  /** For pull requests (and re-runs of untrusted builds): the head repository's id, if known. */
  headRepositoryId?: number | null;
  /** For re-runs: the trust of the build being re-run, which a re-run never raises. */
  trust?: TrustScope;
  /** Who or what started it, e.g. the pusher's login. */
  trigger: string;
  /** Plan only these hooks (re-run of one check run); all when absent. */
  onlyHooks?: readonly string[];
  /**
   * Manual runs: the inputs, given to every job as environment variables (a hook's secret
   * of the same name wins: an input never stands in for a secret).
   */
  inputs?: Readonly<Record<string, string>>;
  /** For pull requests: the branch it merges into, which `branches:` patterns match. */
  baseRef?: string;
  /**
   * The files the push or pull request changed, for `paths:`; undefined when GitHub could
   * not say, which runs every hook.
   */
  changedFiles?: readonly string[];
}

/** A hook whose `paths` left it out: it gets a `skipped` check run saying why. */
export interface SkippedHook {
  name: string;
  reason: string;
}

export interface PlannedJob {
  /** The hook as this job runs it: a matrix combination's values filled in. */
  hook: Hook;
  /** The job's name and check run's: the hook's, with a matrix combination's values. */
  name: string;
  record: JobRecord;
  message: JobMessage;
  /** The line of commits this job supersedes older jobs on. */
  supersede: SupersedeKey;
  cancelSuperseded: boolean;
}

export interface Plan {
  build: BuildRecord;
  jobs: PlannedJob[];
  skipped: SkippedHook[];
}

export interface PlanContext {
  /** Returns a new unique id on each call. */
  newId: () => string;
  /** Epoch milliseconds. */
  now: number;
}

/**
 * A pull request whose head lives in another repository (a fork) is untrusted: its code
 * must not see secrets or the trusted cache (DESIGN.md, Security).
 */
export function decideTrust(facts: EventFacts): TrustScope {
  if (facts.trust) return facts.trust;
  if (facts.event !== "pull_request") return "trusted";
  const head = facts.headRepositoryFullName;
  if (!head) return "untrusted";
  return head.toLowerCase() === facts.repository.fullName.toLowerCase() ? "trusted" : "untrusted";
}

/** `branch:main` for `refs/heads/main`, `pr:7` for a pull request, else the ref itself. */
export function supersedeLine(facts: Pick<EventFacts, "ref" | "pullRequest">): string {
  if (facts.pullRequest !== undefined) return `pr:${facts.pullRequest}`;
  if (facts.ref.startsWith("refs/heads/")) return `branch:${facts.ref.slice("refs/heads/".length)}`;
  return facts.ref;
}

/**
 * The hook in the input form of `.github/kozmic.yml`. Durations and sizes are written as
 * numbers (seconds, bytes), which the schema reads back to the same hook, so the runner
 * can validate the message again.
 */
export function hookToInput(hook: Hook): HookInput {
  const input: HookInput = {
    name: hook.name,
    image: hook.image,
    build: hook.build,
    tracked_files: [...hook.tracked_files],
    timeout: hook.timeout,
    stall_timeout: hook.stall_timeout,
    env: { ...hook.env },
    secrets: [...hook.secrets],
    pull: hook.pull,
    network: hook.network,
    cancel_superseded: hook.cancel_superseded,
  };
  if (hook.install !== undefined) input.install = hook.install;
  // Only when named: a runner from before `reports:` still reads every other hook's message.
  if (hook.reports.length > 0) input.reports = [...hook.reports];
  // Likewise for `artifacts:`.
  if (hook.artifacts.paths.length > 0)
    input.artifacts = { paths: [...hook.artifacts.paths], when: hook.artifacts.when };
  // Only when turned off: a runner from before `echo:` still reads every other hook's message.
  if (!hook.echo) input.echo = false;
  if (hook.memory !== undefined) input.memory = hook.memory;
  if (hook.cpus !== undefined) input.cpus = hook.cpus;
  // Only when declared: a runner from before `services:` refuses the message, never skips them.
  if (hook.services !== undefined) {
    input.services = Object.fromEntries(
      Object.entries(hook.services).map(([name, service]) => [
        name,
        {
          ...service,
          env: { ...service.env },
          ...(service.command ? { command: [...service.command] } : {}),
        },
      ]),
    );
  }
  return input;
}

/** One build and one job per hook (or per requested hook), with the message for each. */
export function planJobs(config: Config, facts: EventFacts, context: PlanContext): Plan {
  const trust = decideTrust(facts);
  // Whose fork an untrusted build's installs belong to; kept on the build for its re-runs.
  const fork =
    trust === "untrusted" && typeof facts.headRepositoryId === "number"
      ? { headRepositoryId: facts.headRepositoryId }
      : {};
  const build: BuildRecord = {
    id: context.newId(),
    installationId: facts.installationId,
    repoId: facts.repository.id,
    repoFullName: facts.repository.fullName,
    repoPrivate: facts.repository.private,
    sha: facts.sha,
    ref: facts.ref,
    event: facts.event,
    trigger: facts.trigger,
    trust,
    ...fork,
    createdAt: context.now,
  };
  if (facts.pullRequest !== undefined) build.pullRequest = facts.pullRequest;

  const skipped: SkippedHook[] = [];
  const wanted = (name: string, hook: Hook) =>
    !facts.onlyHooks || facts.onlyHooks.includes(name) || facts.onlyHooks.includes(hook.name);
  const skip = (hook: Hook, reason: string) => {
    for (const { name } of expandMatrix(hook))
      if (wanted(name, hook)) skipped.push({ name, reason });
  };
  // A re-run runs what it names (or what the build ran) whatever the conditions say.
  const hooks = config.hooks.filter((hook) => {
    if (facts.event === "rerun") return true;
    const decision = decideHook(hook, {
      event: facts.event,
      ref:
        facts.event === "pull_request" && facts.baseRef ? `refs/heads/${facts.baseRef}` : facts.ref,
      changedFiles: facts.changedFiles,
    });
    if (!decision.run && decision.report) skip(hook, decision.reason);
    return decision.run;
  });
  const running = hooksWithTheirNeeds(hooks, skip);
  const line = supersedeLine(facts);
  const variants = running
    .flatMap(expandMatrix)
    .filter((variant) => wanted(variant.name, variant.hook));
  const jobs = variants.map(({ hook: planned, name, combo }): PlannedJob => {
    const hook = withInputs(planned, facts.inputs);
    const id = context.newId();
    const record: JobRecord = {
      id,
      buildId: build.id,
      repoId: facts.repository.id,
      repoFullName: facts.repository.fullName,
      sha: facts.sha,
      hook: name,
      status: "queued",
      createdAt: context.now,
      updatedAt: context.now,
    };
    const message = jobMessageSchema.parse({
      version: 1,
      jobId: id,
      buildId: build.id,
      installationId: facts.installationId,
      repository: { ...facts.repository },
      sha: facts.sha,
      ref: facts.ref,
      event: facts.event,
      ...(facts.pullRequest !== undefined ? { pullRequest: facts.pullRequest } : {}),
      trust,
      ...fork,
      hook: hookToInput(hook),
      ...(combo ? { matrix: combo } : {}),
    });
    return {
      hook,
      name,
      record,
      message,
      supersede: { repoId: facts.repository.id, line, hook: name },
      // A run by hand or on a schedule is never cancelled by, nor cancels, a push's.
      cancelSuperseded:
        hook.cancel_superseded && facts.event !== "manual" && facts.event !== "schedule",
    };
  });
  linkNeeds(jobs);
  return { build, jobs, skipped };
}

/**
 * The hooks whose needs all run too: a hook needing one that its conditions left out does not
 * run either (`skip` is told why), and so on down the line.
 */
function hooksWithTheirNeeds(
  hooks: readonly Hook[],
  skip: (hook: Hook, reason: string) => void,
): Hook[] {
  let kept = [...hooks];
  for (;;) {
    const names = new Set(kept.map((hook) => hook.name));
    const left = kept.find((hook) => (hook.needs ?? []).some((need) => !names.has(need)));
    if (!left) return kept;
    const need = left.needs!.find((n) => !names.has(n))!;
    skip(left, `it needs ${need}, which does not run`);
    kept = kept.filter((hook) => hook !== left);
  }
}

/**
 * A job whose hook `needs` others waits for every job of theirs in this plan (each matrix
 * combination), its message kept until they succeed. Needs with no job here (a re-run of one
 * hook) are not waited for.
 */
function linkNeeds(jobs: PlannedJob[]): void {
  for (const job of jobs) {
    const needed = jobs.filter((other) => job.hook.needs?.includes(other.hook.name));
    if (needed.length === 0) continue;
    job.record.status = "waiting";
    job.record.needs = needed.map((other) => other.record.id);
    job.record.waitsFor = job.hook.needs!.filter((name) =>
      needed.some((other) => other.hook.name === name),
    );
    job.record.waitingMessage = job.message;
    for (const other of needed) {
      other.record.dependents = [...(other.record.dependents ?? []), job.record.id];
    }
  }
}

/**
 * The jobs of one hook: itself, or one per matrix combination with the combination's values
 * in its image and env (as `MATRIX_<KEY>`, which the hook's own env may override).
 */
export function expandMatrix(
  hook: Hook,
): { hook: Hook; name: string; combo?: MatrixCombination }[] {
  if (!hook.matrix) return [{ hook, name: hook.name }];
  return matrixCombinations(hook.matrix).map((combo) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(combo)) env[matrixVariable(key)] = value;
    for (const [key, value] of Object.entries(hook.env)) env[key] = substituteMatrix(value, combo);
    return {
      hook: { ...hook, image: substituteMatrix(hook.image, combo), env },
      name: combinationName(hook.name, combo),
      combo,
    };
  });
}

/**
 * The jobs in an order that runs every hook's needs before it (else as listed): for running
 * them one after another, as `kozmic run` does. Needs outside `jobs` are not waited for.
 */
export function orderByNeeds<T extends { hook: Hook }>(jobs: readonly T[]): T[] {
  const ordered: T[] = [];
  const placed = new Set<string>();
  const names = new Set(jobs.map((job) => job.hook.name));
  let left = [...jobs];
  while (left.length > 0) {
    const ready = (job: T) =>
      (job.hook.needs ?? []).every((need) => placed.has(need) || !names.has(need));
    // The configuration has no cycles; a hook whose needs never get placed still runs.
    const next = left.filter(ready);
    const batch = next.length > 0 ? next : left;
    ordered.push(...batch);
    for (const job of batch) placed.add(job.hook.name);
    left = left.filter((job) => !batch.includes(job));
  }
  return ordered;
}

function withInputs(hook: Hook, inputs: Readonly<Record<string, string>> | undefined): Hook {
  if (!inputs) return hook;
  const env = { ...hook.env };
  for (const [name, value] of Object.entries(inputs)) {
    if (!hook.secrets.includes(name)) env[name] = value;
  }
  return { ...hook, env };
}
