import type { ImageInfo } from "../engine/port.js";
import { installStep } from "./install-step.js";
import {
  JobContext,
  type CacheOutcome,
  type JobInput,
  type JobResult,
  type RunJobOptions,
} from "./job-context.js";
import { startJobServices } from "./job-services.js";
import { resolveBaseImage } from "./resolve-base-image.js";
import { runStep } from "./run-step.js";
import { timed } from "./step-timings.js";
import { collectReports, repositoryFiles, type TestResults } from "../reports/collect-reports.js";
import { collectArtifacts } from "../reports/collect-artifacts.js";

export type { JobInput, JobPhase, JobResult, RunJobOptions } from "./job-context.js";

/**
 * Runs one hook as named steps: prepare (limits, base image), install (a cached install, or
 * the install script in its own container, committed once it has exited), build (always in
 * a fresh container of the cached or base image, so a miss builds as a hit does). Steps are
 * destroyed whatever happens. Infrastructure trouble is thrown as InfrastructureError; a
 * setting that can never run is a PermanentError; a user's failing script is a `failure`.
 */
export async function runJob(job: JobInput, options: RunJobOptions): Promise<JobResult> {
  const ctx = new JobContext(job, options);
  const base = await prepare(ctx);
  let image = base.id;
  let cache: CacheOutcome = {};
  let beside: Promise<void> | undefined;
  if (job.hook.install) {
    const installed = await installStep(ctx, base, job.hook.install);
    if ("conclusion" in installed) return installed;
    ({ image, beside, ...cache } = installed);
  }
  if (Object.keys(job.hook.services ?? {}).length === 0) return build(ctx, image, cache, beside);
  return withServices(ctx, cache, beside, () => build(ctx, image, cache, beside));
}

/**
 * Runs the build beside the hook's services, on their network; they are removed once the
 * build's container is (given to the caller's deferCleanup, as the steps' removals are).
 */
async function withServices(
  ctx: JobContext,
  cache: CacheOutcome,
  beside: Promise<void> | undefined,
  run: () => Promise<JobResult>,
): Promise<JobResult> {
  const services = await startJobServices(ctx);
  if (!("network" in services)) {
    await beside;
    if (services.cancelled) return ctx.stopped({ kind: "cancelled" }, cache)!;
    return ctx.finish({ conclusion: "failure", ...cache });
  }
  const removals: Promise<void>[] = [];
  const jobNetwork = ctx.stepBase.network;
  const deferCleanup = ctx.stepBase.deferCleanup;
  ctx.stepBase.network = services.network;
  ctx.stepBase.deferCleanup = (removal) => removals.push(removal);
  ctx.beforeFinish = () => services.writeOutput();
  try {
    return await run();
  } finally {
    Object.assign(ctx.stepBase, { network: jobNetwork, deferCleanup });
    // A network left behind is the runner's next start's to remove (by label): never the job's.
    const teardown = Promise.allSettled(removals)
      .then(() => services.remove())
      .catch((error: unknown) =>
        ctx.say(`could not remove the job's services: ${(error as Error).message}`),
      );
    if (deferCleanup) deferCleanup(teardown);
    else await teardown;
  }
}

/** The preparing phase: what the runner limits, and the base image, pulled if need be. */
async function prepare(ctx: JobContext): Promise<ImageInfo> {
  const { job, options } = ctx;
  const { hook } = job;
  ctx.sections.start("preparing", `Preparing: ${hook.image}`);
  for (const note of ctx.limitNotes) ctx.say(note);
  if (options.settings.noNewPrivileges) {
    ctx.say(
      `KOZMIC_NO_NEW_PRIVILEGES=true on ${ctx.where}: sudo and other setuid programs cannot gain privileges`,
    );
  }
  options.onPhase?.("preparing");
  ctx.say(`hook "${hook.name}": image ${hook.image} (pull: ${hook.pull})`);
  const pullStart = Date.now();
  void ctx.askDefaultNetwork(); // answered beside the base image lookup
  const base = await timed(options.timings, "pull check", () =>
    resolveBaseImage(options.engine, hook, (line) => ctx.say(line)),
  );
  ctx.elapsedMs.pull = Date.now() - pullStart;
  ctx.say(`base image ${base.id} (${(ctx.elapsedMs.pull / 1000).toFixed(1)}s)`);
  await ctx.checkDefaultNetwork();
  return base;
}

/** The build step, in a fresh container of `image`; the job's result. */
async function build(
  ctx: JobContext,
  image: string,
  cache: CacheOutcome,
  beside: Promise<void> | undefined,
): Promise<JobResult> {
  const { options, job } = ctx;
  ctx.sections.start("build", "Build");
  options.onPhase?.("building");
  ctx.say("build");
  const buildStart = Date.now();
  let tests: TestResults | undefined;
  const { reports, artifacts } = job.hook;
  const sink = options.artifacts;
  const keepArtifacts = (exitCode: number | undefined) =>
    sink && artifacts.paths.length > 0 && (artifacts.when === "always" || exitCode === 0);
  const afterScript = async (stepId: string, exitCode: number | undefined) => {
    const say = (line: string) => ctx.say(line);
    if (reports.length > 0)
      tests = await timed(options.timings, "reports", () =>
        collectReports(options.engine, stepId, reports, {
          say,
          isRepositoryFile: repositoryFiles(job.sourceDir),
        }),
      );
    if (keepArtifacts(exitCode))
      await timed(options.timings, "artifacts", () =>
        collectArtifacts(options.engine, stepId, artifacts.paths, sink!, say),
      );
  };
  const outcome = await ctx.cancellable(
    runStep(
      options.engine,
      { ...ctx.stepBase, image, script: job.hook.build, afterScript },
      ctx.stepLog,
    ),
  );
  ctx.elapsedMs.build = Date.now() - buildStart;
  await beside;
  const outcomes = { ...cache, ...(tests ? { tests } : {}) };
  const stopped = ctx.stopped(outcome, outcomes);
  if (stopped) return stopped;
  const exitCode = outcome.kind === "exited" ? outcome.exitCode : -1;
  if (exitCode !== 0) ctx.explainFailure();
  const failed = outcome.kind === "exited" ? outcome.failedCommand : undefined;
  ctx.say(
    failed ? `build failed: "${failed}" exited with ${exitCode}` : `build exit code ${exitCode}`,
  );
  return ctx.finish({ conclusion: exitCode === 0 ? "success" : "failure", exitCode, ...outcomes });
}
