import {
  computeCacheKey,
  type TrackedFileDigest,
  type TrustScope,
} from "../../src/core/cache-key.js";
import type { Hook } from "../../src/core/config/schema.js";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import { pruneCache } from "../cache/prune-cache.js";
import { recordCacheUse } from "../cache/cache-usage.js";
import type { Engine, ImageInfo } from "../engine/port.js";
import type { LogSink } from "../logs/log-sink.js";
import { withKeyLock } from "./key-lock.js";
import { runStep, type StepOutcome } from "./run-step.js";
import type { PipelineSettings } from "./settings.js";

export interface JobInput {
  jobId: string;
  repositoryId: string;
  scope: TrustScope;
  hook: Hook;
  /** The working tree at the job's commit, `.git` included. */
  sourceDir: string;
  /** The hook's tracked files, resolved and hashed by the caller. */
  trackedFiles: readonly TrackedFileDigest[];
}

export type JobPhase = "preparing" | "installing" | "building";

export interface RunJobOptions {
  engine: Engine;
  settings: PipelineSettings;
  log: LogSink;
  signal?: AbortSignal;
  onPhase?: (phase: JobPhase) => void;
}

export interface JobResult {
  conclusion: "success" | "failure" | "timed_out" | "cancelled";
  exitCode?: number;
  cacheKey?: string;
  cacheHit?: boolean;
  durations: { pull: number; install: number; build: number; total: number };
}

export const CACHE_LABELS = {
  managed: "kozmic.cache",
  repo: "kozmic.cache.repo",
  hook: "kozmic.cache.hook",
  key: "kozmic.cache.key",
  scope: "kozmic.cache.scope",
  created: "kozmic.cache.created",
} as const;

/** `kozmic-cache/<repo>`: a Docker repository name made from any repository id. */
export function cacheRepository(repositoryId: string): string {
  const safe = repositoryId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `kozmic-cache/${safe || "repo"}`;
}

function resolveNetwork(hook: Hook, settings: PipelineSettings): string {
  if (hook.network === "none") return "none";
  if (hook.network === "host") {
    if (!settings.allowHostNetwork) {
      throw new PermanentError(
        `hook "${hook.name}" asks for network: host, which this runner does not allow ` +
          "(set KOZMIC_ALLOW_HOST_NETWORK=true on the runner to permit it)",
      );
    }
    return "host";
  }
  return settings.network;
}

async function findCacheImage(
  engine: Engine,
  repositoryId: string,
  key: string,
  scope: TrustScope,
): Promise<ImageInfo | undefined> {
  const images = await engine.findImages({
    [CACHE_LABELS.repo]: repositoryId,
    [CACHE_LABELS.key]: key,
    [CACHE_LABELS.scope]: scope,
  });
  return images[0];
}

/**
 * Runs one hook: pull, cache lookup (install under a per-key lock on a miss, then commit),
 * build. Containers and volumes are removed whatever happens. Infrastructure trouble is
 * thrown as InfrastructureError; a user's failing script is a `failure` result.
 */
export async function runJob(job: JobInput, options: RunJobOptions): Promise<JobResult> {
  const { engine, settings, log, signal } = options;
  const { hook } = job;
  const started = Date.now();
  const deadline = started + hook.timeout * 1000;
  const durations = { pull: 0, install: 0, build: 0, total: 0 };
  const say = (line: string) => log.write(`==> ${line}\n`);
  const finish = (result: Omit<JobResult, "durations">): JobResult => {
    durations.total = Date.now() - started;
    say(
      `${result.conclusion} in ${(durations.total / 1000).toFixed(1)}s ` +
        `(pull ${(durations.pull / 1000).toFixed(1)}s, install ${(durations.install / 1000).toFixed(1)}s, ` +
        `build ${(durations.build / 1000).toFixed(1)}s)`,
    );
    return { ...result, durations };
  };
  const stepBase = {
    jobId: job.jobId,
    sourceDir: job.sourceDir,
    env: hook.env,
    memoryBytes: hook.memory ?? settings.defaultMemoryBytes,
    nanoCpus: Math.round((hook.cpus ?? settings.defaultCpus) * 1e9),
    pidsLimit: settings.defaultPids,
    network: resolveNetwork(hook, settings),
    deadline,
    stallTimeoutMs: hook.stall_timeout * 1000,
    ...(signal ? { signal } : {}),
  };
  const ended = (outcome: StepOutcome, extra: Omit<JobResult, "durations" | "conclusion">) => {
    if (outcome.kind === "cancelled") {
      say("cancelled");
      return finish({ conclusion: "cancelled", ...extra });
    }
    if (outcome.kind === "timed_out") {
      say(`timed out: ${outcome.reason}`);
      return finish({ conclusion: "timed_out", ...extra });
    }
    return undefined;
  };

  options.onPhase?.("preparing");
  say(`hook "${hook.name}": image ${hook.image} (pull: ${hook.pull})`);
  const pullStart = Date.now();
  let base = hook.pull === "always" ? undefined : await engine.inspectImage(hook.image);
  if (!base) {
    say(`pulling ${hook.image}`);
    await engine.pullImage(hook.image);
    base = await engine.inspectImage(hook.image);
    if (!base) throw new InfrastructureError(`image ${hook.image} is not on the host after a pull`);
  }
  durations.pull = Date.now() - pullStart;
  say(`base image ${base.id} (${(durations.pull / 1000).toFixed(1)}s)`);

  let buildImage = base.id;
  let cacheKey: string | undefined;
  let cacheHit: boolean | undefined;
  if (hook.install) {
    const installScript = hook.install;
    const keyFor = (scope: TrustScope) =>
      computeCacheKey({
        baseImageId: base.id,
        installScript,
        trackedFiles: job.trackedFiles,
        repositoryId: job.repositoryId,
        scope,
      });
    cacheKey = keyFor(job.scope);
    const key = cacheKey;
    // Untrusted jobs may read what trusted jobs cached, never the other way round.
    const lookup = async () =>
      (job.scope === "untrusted"
        ? await findCacheImage(engine, job.repositoryId, keyFor("trusted"), "trusted")
        : undefined) ?? (await findCacheImage(engine, job.repositoryId, key, job.scope));
    let hit = await lookup();
    if (!hit) {
      const installStart = Date.now();
      const outcome = await withKeyLock(
        settings.dataDir,
        key,
        async (): Promise<StepOutcome | ImageInfo> => {
          const again = await lookup();
          if (again) return again;
          say(`cache miss ${key}: running install`);
          options.onPhase?.("installing");
          const tag = key;
          return runStep(
            engine,
            {
              ...stepBase,
              image: base.id,
              script: installScript,
              afterExit: async (containerId, exitCode) => {
                if (exitCode !== 0) return;
                const id = await engine.commitContainer(
                  containerId,
                  cacheRepository(job.repositoryId),
                  tag,
                  {
                    [CACHE_LABELS.managed]: "true",
                    [CACHE_LABELS.repo]: job.repositoryId,
                    [CACHE_LABELS.hook]: hook.name,
                    [CACHE_LABELS.key]: key,
                    [CACHE_LABELS.scope]: job.scope,
                    [CACHE_LABELS.created]: new Date().toISOString(),
                  },
                );
                say(`install committed to ${cacheRepository(job.repositoryId)}:${tag} (${id})`);
              },
            },
            log,
          );
        },
        signal,
      ).catch((error: unknown) => {
        if (signal?.aborted) return { kind: "cancelled" } as const;
        throw error;
      });
      durations.install = Date.now() - installStart;
      if ("id" in outcome) {
        hit = outcome;
      } else {
        const stopped = ended(outcome, { cacheKey: key, cacheHit: false });
        if (stopped) return stopped;
        if (outcome.kind === "exited" && outcome.exitCode !== 0) {
          say(`install failed with exit code ${outcome.exitCode}; nothing cached`);
          return finish({
            conclusion: "failure",
            exitCode: outcome.exitCode,
            cacheKey: key,
            cacheHit: false,
          });
        }
        say(`install done (${(durations.install / 1000).toFixed(1)}s)`);
        cacheHit = false;
        const made = await findCacheImage(engine, job.repositoryId, key, job.scope);
        if (!made) throw new InfrastructureError(`committed cache image for ${key} not found`);
        buildImage = made.id;
        await recordCacheUse(settings.dataDir, made.id);
        await pruneCache(engine, settings, {
          repositoryId: job.repositoryId,
          hook: hook.name,
        }).catch((error: unknown) => say(`cache prune failed: ${(error as Error).message}`));
      }
    }
    if (hit) {
      cacheHit = true;
      buildImage = hit.id;
      await recordCacheUse(settings.dataDir, hit.id);
      say(`install skipped: cache hit ${hit.labels[CACHE_LABELS.key] ?? key}`);
    }
  }

  options.onPhase?.("building");
  say("build");
  const buildStart = Date.now();
  const outcome = await runStep(
    engine,
    { ...stepBase, image: buildImage, script: hook.build },
    log,
  );
  durations.build = Date.now() - buildStart;
  const extra = {
    ...(cacheKey ? { cacheKey } : {}),
    ...(cacheHit !== undefined ? { cacheHit } : {}),
  };
  const stopped = ended(outcome, extra);
  if (stopped) return stopped;
  const exitCode = outcome.kind === "exited" ? outcome.exitCode : -1;
  say(`build exit code ${exitCode}`);
  return finish({ conclusion: exitCode === 0 ? "success" : "failure", exitCode, ...extra });
}
