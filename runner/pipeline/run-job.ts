import { createHash } from "node:crypto";
import {
  computeCacheKey,
  type TrackedFileDigest,
  type TrustScope,
} from "../../src/core/cache-key.js";
import type { Hook } from "../../src/core/config/schema.js";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import {
  cacheInputLabels,
  explainCacheMiss,
  type CacheInputs,
} from "../../src/core/explain-cache-miss.js";
import { imageIsNamed, lookupRef } from "../../src/core/image-ref.js";
import {
  CACHE_LABELS,
  cacheRepository,
  findCacheImage,
  hasCacheLabels,
  newestCacheInputs,
  type CacheRecords,
} from "../cache/cache-images.js";
import { pruneCache } from "../cache/prune-cache.js";
import type { FleetCache, FleetKey, FleetLease } from "../cache/fleet-cache.js";
import { recordCacheUse } from "../cache/cache-usage.js";
import { rememberImageUsers } from "./image-users.js";
import { timed, type StepTimings } from "./step-timings.js";
import type { Engine, ImageInfo } from "../engine/port.js";
import type { LogSink } from "../logs/log-sink.js";
import { SectionMarkers } from "../logs/section-markers.js";
import { withKeyLock } from "./key-lock.js";
import { processWorkspaces } from "../source/step-workspaces.js";
import { resolveLimits } from "./resolve-limits.js";
import { runStep, type StepOutcome, type StepSpec } from "./run-step.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";

export { CACHE_LABELS, cacheRepository } from "../cache/cache-images.js";

export interface JobInput {
  jobId: string;
  repositoryId: string;
  scope: TrustScope;
  /** Untrusted jobs: whose installs they share (cacheFork); one fork never hits another's. */
  fork?: string;
  hook: Hook;
  /** The working tree at the job's commit, `.git` included. */
  sourceDir: string;
  /** The hook's tracked files, resolved and hashed by the caller. */
  trackedFiles: readonly TrackedFileDigest[];
  /**
   * The values of the hook's `secrets:`, for both scripts' processes (never the containers'
   * configuration, never the cache key). Absent for untrusted jobs.
   */
  secrets?: Record<string, string>;
}

export type JobPhase = "preparing" | "installing" | "building";

export interface RunJobOptions {
  engine: Engine;
  settings: PipelineSettings;
  log: LogSink;
  /** Where committed cache images are recorded; a hit is taken only for a recorded image. */
  cacheRecords: CacheRecords;
  signal?: AbortSignal;
  onPhase?: (phase: JobPhase) => void;
  /** Durations of the job's steps, for the benchmark's split. */
  timings?: StepTimings;
  /** The fleet's install cache (KOZMIC_CACHE_REGISTRY): pulled on a miss, pushed after a commit. */
  fleet?: FleetCache;
  /**
   * Takes each step's container and volume removal instead of waiting for it, so the
   * result is reported first; the caller must await what it was given (see run-step.ts).
   */
  deferCleanup?: (removal: Promise<void>) => void;
}

export interface JobResult {
  conclusion: "success" | "failure" | "timed_out" | "cancelled";
  exitCode?: number;
  cacheKey?: string;
  cacheHit?: boolean;
  /** On a miss: why the install was not cached (first run, or what changed). */
  cacheMissReasons?: string[];
  /** Seconds spent in each phase, the unit of the job record and the check run. */
  durations: { pull: number; install: number; build: number; total: number };
}

/** Stands in the output of a step that sudo refused because of no-new-privileges. */
const NO_NEW_PRIVILEGES_REFUSAL = /"no new privileges" flag is set/;

type Say = (line: string) => void;

/**
 * The hook's base image, looked up by name only (never as an ID prefix) and pulled when
 * absent or when the hook asks; an image carrying Kozmic's cache labels is refused.
 */
async function resolveBaseImage(engine: Engine, hook: Hook, say: Say): Promise<ImageInfo> {
  const ref = lookupRef(hook.image);
  const named = async () => {
    const image = await engine.inspectImage(ref);
    return image && imageIsNamed(hook.image, image) ? image : undefined;
  };
  let base = hook.pull === "always" ? undefined : await named();
  if (!base) {
    say(`pulling ${hook.image}`);
    await engine.pullImage(hook.image);
    base = await named();
    if (!base) throw new InfrastructureError(`image ${hook.image} is not on the host after a pull`);
  }
  if (hasCacheLabels(base)) {
    throw new PermanentError(
      `image ${hook.image} (${base.id}) carries Kozmic's install-cache labels: only Kozmic's own ` +
        "cache images may, and a hook cannot start from one; name an ordinary base image",
    );
  }
  return base;
}

/**
 * The users of a cache image about to be committed, read from the install container it is
 * made of (already there, stopped) while the commit runs: its first hit then needs no
 * container to read them. A commit keeps the base image's USER.
 */
function rememberCommittedUsers(
  dataDir: string,
  readPasswd: () => Promise<string | undefined>,
  base: ImageInfo,
): (imageId: string) => Promise<void> {
  const passwd = readPasswd();
  passwd.catch(() => {}); // awaited once the image exists; a commit failing first wins
  return async (imageId) =>
    rememberImageUsers(dataDir, imageId, { passwd: await passwd, imageUser: base.user });
}

/**
 * Runs one hook: pull, cache lookup (install under a per-key lock on a miss, then commit),
 * build. Containers and volumes are removed whatever happens. Infrastructure trouble is
 * thrown as InfrastructureError; a setting that can never run is a PermanentError; a
 * user's failing script is a `failure` result.
 */
export async function runJob(job: JobInput, options: RunJobOptions): Promise<JobResult> {
  const { engine, settings, log, signal, cacheRecords } = options;
  const { hook } = job;
  const started = Date.now();
  const deadline = started + hook.timeout * 1000;
  const elapsedMs = { pull: 0, install: 0, build: 0, total: 0 };
  const say: Say = (line) => log.write(`==> ${line}\n`);
  const sections = new SectionMarkers(log);
  const finish = (result: Omit<JobResult, "durations">): JobResult => {
    elapsedMs.total = Date.now() - started;
    sections.end(result.conclusion);
    const durations = {
      pull: elapsedMs.pull / 1000,
      install: elapsedMs.install / 1000,
      build: elapsedMs.build / 1000,
      total: elapsedMs.total / 1000,
    };
    say(
      `${result.conclusion} in ${durations.total.toFixed(1)}s ` +
        `(pull ${durations.pull.toFixed(1)}s, install ${durations.install.toFixed(1)}s, ` +
        `build ${durations.build.toFixed(1)}s)`,
    );
    return { ...result, durations };
  };
  const limits = resolveLimits(hook, job.scope, settings);
  sections.start("preparing", `Preparing: ${hook.image}`);
  for (const note of limits.notes) say(note);
  const where = settings.place ?? "this runner";
  if (settings.noNewPrivileges) {
    say(
      `KOZMIC_NO_NEW_PRIVILEGES=true on ${where}: sudo and other setuid programs cannot gain privileges`,
    );
  }
  let refusedSudo = false;
  const stepLog: LogSink = {
    write: (text) => {
      if (settings.noNewPrivileges && NO_NEW_PRIVILEGES_REFUSAL.test(text)) refusedSudo = true;
      log.write(text);
    },
    flush: () => log.flush(),
  };
  const explainFailure = () => {
    if (refusedSudo) {
      say(
        `sudo was refused because KOZMIC_NO_NEW_PRIVILEGES=true is set on ${where}; ` +
          "unset it there to let scripts use sudo, or run the hook as `user: root`",
      );
    }
  };
  const stepBase: Omit<StepSpec, "image" | "script"> = {
    jobId: job.jobId,
    sourceDir: job.sourceDir,
    env: hook.env,
    ...(job.secrets ? { secrets: job.secrets } : {}),
    ...(hook.user !== undefined ? { user: hook.user } : {}),
    memoryBytes: limits.memoryBytes,
    nanoCpus: limits.nanoCpus,
    pidsLimit: limits.pidsLimit,
    network: limits.network,
    noNewPrivileges: settings.noNewPrivileges,
    ...(options.timings ? { timings: options.timings } : {}),
    ...(options.deferCleanup ? { deferCleanup: options.deferCleanup } : {}),
    ...(settings.runtime ? { runtime: settings.runtime } : {}),
    dataDir: settings.dataDir,
    workspaceRoot: settings.workspacesDir ?? processWorkspaces(settings.dataDir),
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
  // Asked once per engine; asked now, it is answered while the image is looked up.
  void engine.bindsWorkspaces?.().catch(() => {});
  say(`hook "${hook.name}": image ${hook.image} (pull: ${hook.pull})`);
  const pullStart = Date.now();
  const base = await timed(options.timings, "pull check", () =>
    resolveBaseImage(engine, hook, say),
  );
  elapsedMs.pull = Date.now() - pullStart;
  say(`base image ${base.id} (${(elapsedMs.pull / 1000).toFixed(1)}s)`);

  let buildImage = base.id;
  let buildStart = 0;
  const startBuild = () => {
    sections.start("build", "Build");
    options.onPhase?.("building");
    say("build");
    buildStart = Date.now();
  };
  /** After a miss: the install's container, which goes on to the build once committed. */
  let building: Promise<StepOutcome> | undefined;
  let pruning: Promise<void> | undefined;
  let usageRecorded: Promise<void> | undefined;
  let cacheKey: string | undefined;
  let cacheHit: boolean | undefined;
  let cacheMissReasons: string[] | undefined;
  if (hook.install) {
    const installScript = hook.install;
    const inputs: CacheInputs = {
      baseImageId: base.id,
      baseImageRef: hook.image,
      installDigest: createHash("sha256").update(installScript, "utf8").digest("hex"),
      trackedFiles: job.trackedFiles,
    };
    const keyFor = (scope: TrustScope) =>
      computeCacheKey({
        baseImageId: base.id,
        installScript,
        trackedFiles: job.trackedFiles,
        repositoryId: job.repositoryId,
        scope,
        ...(scope === "untrusted" && job.fork ? { fork: job.fork } : {}),
      });
    cacheKey = keyFor(job.scope);
    const forkLabel = job.scope === "untrusted" ? job.fork : undefined;
    const key = cacheKey;
    const warned = new Set<string>();
    const onForged = (image: ImageInfo) => {
      if (warned.has(image.id)) return;
      warned.add(image.id);
      say(
        `ignoring image ${image.id}: it carries Kozmic's cache labels, but Kozmic did not commit it`,
      );
    };
    const find = (k: string, scope: TrustScope) =>
      findCacheImage(
        engine,
        cacheRecords,
        { repositoryId: job.repositoryId, key: k, scope },
        onForged,
      );
    // Untrusted jobs may read what trusted jobs cached, never the other way round.
    const lookup = async () =>
      (job.scope === "untrusted" ? await find(keyFor("trusted"), "trusted") : undefined) ??
      (await find(key, job.scope));
    let hit = await timed(options.timings, "cache lookup", lookup);
    let pulledFrom: { ref: string; ms: number } | undefined;
    if (!hit) {
      const installStart = Date.now();
      let committed: string | undefined;
      let lease: FleetLease | undefined;
      const { fleet } = options;
      const outcome = await withKeyLock(
        settings.dataDir,
        key,
        async (): Promise<StepOutcome | ImageInfo | "committed"> => {
          // What the last install was made of, asked beside the lookup: a miss's "why".
          const explained = timed(options.timings, "miss explanation", () =>
            newestCacheInputs(engine, cacheRecords, {
              repositoryId: job.repositoryId,
              hook: hook.name,
              scope: job.scope,
              ...(forkLabel ? { fork: forkLabel } : {}),
            }),
          );
          explained.catch(() => {}); // awaited below when the lookup misses
          const again = await timed(options.timings, "cache lookup", lookup);
          if (again) return again;
          if (fleet) {
            const mine: FleetKey = { repositoryId: job.repositoryId, scope: job.scope, key };
            const reads: FleetKey[] =
              job.scope === "untrusted"
                ? [{ ...mine, scope: "trusted", key: keyFor("trusted") }, mine]
                : [mine];
            const found = await fleet.lookup(engine, reads, mine, job.jobId, say, signal, deadline);
            if (found.outcome === "pulled") {
              const pulled = await lookup();
              if (pulled) {
                pulledFrom = found;
                return pulled;
              }
              say(`${found.ref} is not an install Kozmic recorded: installing here`);
            } else {
              lease = found.lease;
            }
          }
          cacheMissReasons = explainCacheMiss(await explained, inputs);
          sections.start("install", `Install: cache miss (${cacheMissReasons.join("; ")})`);
          say(`cache miss ${key}: running install`);
          for (const reason of cacheMissReasons) say(`  why: ${reason}`);
          options.onPhase?.("installing");
          // The build goes on in the install's container once the install is committed;
          // the key's lock is released then, not when the build ends.
          return new Promise<StepOutcome | "committed">((resolve, reject) => {
            const between = async (
              containerId: string,
              readPasswd: () => Promise<string | undefined>,
            ) => {
              const createdAt = Date.now();
              const rememberUsers = rememberCommittedUsers(settings.dataDir, readPasswd, base);
              const image = await timed(options.timings, "commit", () =>
                engine.commitContainer(containerId, cacheRepository(job.repositoryId), key, {
                  [CACHE_LABELS.managed]: "true",
                  [CACHE_LABELS.repo]: job.repositoryId,
                  [CACHE_LABELS.hook]: hook.name,
                  [CACHE_LABELS.key]: key,
                  [CACHE_LABELS.scope]: job.scope,
                  ...(forkLabel ? { [CACHE_LABELS.fork]: forkLabel } : {}),
                  [CACHE_LABELS.created]: new Date(createdAt).toISOString(),
                  ...cacheInputLabels(inputs),
                }),
              );
              committed = image;
              await cacheRecords.recordCacheImage({
                imageId: image,
                repositoryId: job.repositoryId,
                hook: hook.name,
                key,
                scope: job.scope,
                createdAt,
              });
              await rememberUsers(image);
              say(`install committed to ${cacheRepository(job.repositoryId)}:${key} (${image})`);
              if (fleet) {
                // The push releases the fleet lease when it ends.
                fleet.push(
                  engine,
                  image,
                  { repositoryId: job.repositoryId, scope: job.scope, key },
                  lease,
                  say,
                );
                lease = undefined;
              }
              elapsedMs.install = Date.now() - installStart;
              say(`install done (${(elapsedMs.install / 1000).toFixed(1)}s)`);
              // The image's use (which the prune reads) and the prune go on beside the build.
              pruning = (async () => {
                await recordCacheUse(settings.dataDir, image);
                await timed(options.timings, "cache prune", () =>
                  pruneCache(
                    engine,
                    settings,
                    { repositoryId: job.repositoryId, hook: hook.name },
                    undefined,
                    options.fleet?.busyImages,
                  ),
                );
              })().catch((error: unknown) =>
                say(`cache prune failed: ${(error as Error).message}`),
              );
              startBuild();
              resolve("committed");
              return image;
            };
            building = runStep(
              engine,
              {
                ...stepBase,
                image: base.id,
                script: installScript,
                next: { script: hook.build, between },
              },
              stepLog,
            );
            building.then(resolve, reject);
          });
        },
        signal,
      )
        .catch((error: unknown) => {
          if (signal?.aborted) return { kind: "cancelled" } as const;
          throw error;
        })
        .finally(() => lease?.release());
      if (outcome !== "committed") elapsedMs.install = Date.now() - installStart;
      if (pulledFrom) {
        elapsedMs.install -= pulledFrom.ms;
        elapsedMs.pull += pulledFrom.ms;
      }
      const missed = cacheMissReasons ? { cacheMissReasons } : {};
      if (outcome === "committed") {
        cacheHit = false;
        buildImage = committed!;
      } else if ("id" in outcome) {
        hit = outcome;
      } else {
        const stopped = ended(outcome, { cacheKey: key, cacheHit: false, ...missed });
        if (stopped) return stopped;
        if (outcome.kind === "exited" && outcome.exitCode !== 0) {
          explainFailure();
          say(`install failed with exit code ${outcome.exitCode}; nothing cached`);
          return finish({
            conclusion: "failure",
            exitCode: outcome.exitCode,
            cacheKey: key,
            cacheHit: false,
            ...missed,
          });
        }
        throw new InfrastructureError(`install for ${key} ended without a commit`);
      }
    }
    if (hit) {
      cacheHit = true;
      cacheMissReasons = undefined;
      buildImage = hit.id;
      // Which image was used last, for the prune: written beside the build, not before it.
      usageRecorded = recordCacheUse(settings.dataDir, hit.id);
      usageRecorded.catch(() => {}); // awaited after the build
      const from = pulledFrom
        ? `pulled from the fleet cache ${pulledFrom.ref} in ${(pulledFrom.ms / 1000).toFixed(1)}s`
        : "local image";
      const hitKey = hit.labels[CACHE_LABELS.key] ?? key;
      sections.start("install", `Install skipped: cache hit ${hitKey.slice(0, 12)} (${from})`);
      say(`install skipped: cache hit ${hitKey} (${from})`);
      say("  why: the base image, install script and tracked files match the cached install");
      if (options.fleet && !pulledFrom && job.scope === "trusted") {
        await options.fleet.pushIfUnpushed(
          engine,
          hit.id,
          { repositoryId: job.repositoryId, scope: job.scope, key },
          say,
        );
      }
      sections.end("skipped");
    }
  }

  // After a miss the build is already running in the install's container.
  const continued = cacheHit === false ? building : undefined;
  if (!continued) startBuild();
  const outcome = await (
    continued ?? runStep(engine, { ...stepBase, image: buildImage, script: hook.build }, stepLog)
  ).catch((error: unknown) => {
    if (signal?.aborted) return { kind: "cancelled" } as const;
    throw error;
  });
  elapsedMs.build = Date.now() - buildStart;
  await pruning;
  await usageRecorded;
  const extra = {
    ...(cacheKey ? { cacheKey } : {}),
    ...(cacheHit !== undefined ? { cacheHit } : {}),
    ...(cacheMissReasons ? { cacheMissReasons } : {}),
  };
  const stopped = ended(outcome, extra);
  if (stopped) return stopped;
  const exitCode = outcome.kind === "exited" ? outcome.exitCode : -1;
  if (exitCode !== 0) explainFailure();
  say(`build exit code ${exitCode}`);
  return finish({ conclusion: exitCode === 0 ? "success" : "failure", exitCode, ...extra });
}
