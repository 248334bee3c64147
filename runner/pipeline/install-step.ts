import { createHash } from "node:crypto";
import { computeCacheKey, type TrustScope } from "../../src/core/cache-key.js";
import { InfrastructureError } from "../../src/core/errors.js";
import {
  cacheInputLabels,
  explainCacheMiss,
  type CacheInputs,
} from "../../src/core/explain-cache-miss.js";
import {
  CACHE_LABELS,
  cacheRepository,
  findCacheImage,
  newestCacheInputs,
} from "../cache/cache-images.js";
import { recordCacheUse } from "../cache/list-cache.js";
import type { FleetKey, FleetLease } from "../cache/fleet-cache.js";
import { pruneCache } from "../cache/prune-cache.js";
import type { ImageInfo } from "../engine/port.js";
import { rememberImageUsers } from "./image-users.js";
import type { JobContext, JobInput, JobResult } from "./job-context.js";
import { withKeyLock } from "./key-lock.js";
import { runStep, type StepOutcome } from "./run-step.js";
import { timed } from "./step-timings.js";

/** The image the build runs in, after a hit or a committed install. */
export interface InstallDone {
  image: string;
  cacheKey: string;
  cacheHit: boolean;
  cacheMissReasons?: string[];
  /** Work that goes on beside the build (recording the image's use, the prune). */
  beside: Promise<void>;
}

/** The fork an untrusted job's installs are labelled with; none for a trusted job. */
function forkOf(job: JobInput): string | undefined {
  return job.scope === "untrusted" ? job.fork : undefined;
}

/** The hook's cache key, and how to find a cached install for it. */
interface CacheLookup {
  key: string;
  keyFor: (scope: TrustScope) => string;
  inputs: CacheInputs;
  find: () => Promise<ImageInfo | undefined>;
}

function cacheLookup(ctx: JobContext, base: ImageInfo, installScript: string): CacheLookup {
  const { job, options } = ctx;
  const keyFor = (scope: TrustScope) =>
    computeCacheKey({
      baseImageId: base.id,
      installScript,
      trackedFiles: job.trackedFiles,
      repositoryId: job.repositoryId,
      scope,
      ...(scope === "untrusted" && job.fork ? { fork: job.fork } : {}),
      ...(job.matrix ? { matrix: job.matrix } : {}),
    });
  const key = keyFor(job.scope);
  const warned = new Set<string>();
  const onForged = (image: ImageInfo) => {
    if (warned.has(image.id)) return;
    warned.add(image.id);
    ctx.say(
      `ignoring image ${image.id}: it carries Kozmic's cache labels, but Kozmic did not commit it`,
    );
  };
  const findIn = (k: string, scope: TrustScope) =>
    findCacheImage(
      options.engine,
      options.cacheRecords,
      { repositoryId: job.repositoryId, key: k, scope },
      onForged,
    );
  // Untrusted jobs may read what trusted jobs cached, never the other way round.
  const find = async () =>
    (job.scope === "untrusted" ? await findIn(keyFor("trusted"), "trusted") : undefined) ??
    (await findIn(key, job.scope));
  const inputs: CacheInputs = {
    baseImageId: base.id,
    baseImageRef: job.hook.image,
    installDigest: createHash("sha256").update(installScript, "utf8").digest("hex"),
    trackedFiles: job.trackedFiles,
  };
  return { key, keyFor, inputs, find: () => timed(options.timings, "cache lookup", find) };
}

/**
 * The install step: a cached install when there is one (here, or pulled from the fleet),
 * else the install script in its own container, which has exited when it is committed.
 * Resolves with the job's result when the install failed or was stopped.
 */
export async function installStep(
  ctx: JobContext,
  base: ImageInfo,
  installScript: string,
): Promise<InstallDone | JobResult> {
  const lookup = cacheLookup(ctx, base, installScript);
  const { key } = lookup;
  const hit = await lookup.find();
  if (hit) return takeHit(ctx, hit, lookup);
  const installStart = Date.now();
  const outcome = await installUnderLock(ctx, base, installScript, lookup);
  ctx.elapsedMs.install = Date.now() - installStart;
  if ("image" in outcome) {
    // Time spent pulling from the fleet is the pull's, not the install's.
    ctx.elapsedMs.install -= outcome.pulled?.ms ?? 0;
    ctx.elapsedMs.pull += outcome.pulled?.ms ?? 0;
    return takeHit(ctx, outcome.image, lookup, outcome.pulled);
  }
  const missed = { cacheKey: key, cacheHit: false, cacheMissReasons: outcome.reasons };
  if ("committed" in outcome) {
    ctx.say(`install done (${(ctx.elapsedMs.install / 1000).toFixed(1)}s)`);
    return { ...missed, image: outcome.committed, beside: afterCommit(ctx, outcome.committed) };
  }
  const stopped = ctx.stopped(outcome.step, missed);
  if (stopped) return stopped;
  if (outcome.step.kind === "exited" && outcome.step.exitCode !== 0) {
    ctx.explainFailure();
    const { exitCode, failedCommand } = outcome.step;
    ctx.say(
      failedCommand
        ? `install failed: "${failedCommand}" exited with ${exitCode}; nothing cached`
        : `install failed with exit code ${exitCode}; nothing cached`,
    );
    return ctx.finish({ conclusion: "failure", exitCode: outcome.step.exitCode, ...missed });
  }
  throw new InfrastructureError(`install for ${key} ended without a commit`);
}

type LockedOutcome =
  | { image: ImageInfo; pulled?: { ref: string; ms: number } }
  | { committed: string; reasons: string[] }
  | { step: StepOutcome; reasons?: string[] };

/**
 * Under the key's lock: a hit another job committed meanwhile, a pull from the fleet, or the
 * install itself. The lock is released once the install is committed.
 */
async function installUnderLock(
  ctx: JobContext,
  base: ImageInfo,
  installScript: string,
  lookup: CacheLookup,
): Promise<LockedOutcome> {
  const { job, options } = ctx;
  let lease: FleetLease | undefined;
  let reasons: string[] | undefined;
  try {
    return await withKeyLock(
      options.settings.dataDir,
      lookup.key,
      async (): Promise<LockedOutcome> => {
        // What the last install was made of, asked beside the lookup: a miss's "why".
        const explained = timed(options.timings, "miss explanation", () =>
          newestCacheInputs(options.engine, options.cacheRecords, {
            repositoryId: job.repositoryId,
            hook: job.hook.name,
            scope: job.scope,
            ...(forkOf(job) ? { fork: forkOf(job) } : {}),
          }),
        );
        explained.catch(() => {}); // awaited below when the lookup misses
        const again = await lookup.find();
        if (again) return { image: again };
        const fleet = await fromFleet(ctx, lookup);
        if ("image" in fleet) return fleet;
        lease = fleet.lease;
        reasons = explainCacheMiss(await explained, lookup.inputs);
        ctx.sections.start("install", `Install: cache miss (${reasons.join("; ")})`);
        ctx.say(`cache miss ${lookup.key}: running install`);
        for (const reason of reasons) ctx.say(`  why: ${reason}`);
        options.onPhase?.("installing");
        let committed: string | undefined;
        const step = await runStep(
          options.engine,
          { ...ctx.stepBase, image: base.id, script: installScript, install: true },
          ctx.stepLog,
          async (stepId) => {
            committed = await commitInstall(ctx, base, stepId, lookup, lease);
            lease = undefined; // the push releases it
          },
        );
        return committed ? { committed, reasons } : { step, reasons };
      },
      options.signal,
    );
  } catch (error) {
    if (options.signal?.aborted) {
      return { step: { kind: "cancelled" }, ...(reasons ? { reasons } : {}) };
    }
    throw error;
  } finally {
    await lease?.release();
  }
}

/** A cached install pulled from the fleet's registry, or the key's lease to install it. */
async function fromFleet(
  ctx: JobContext,
  lookup: CacheLookup,
): Promise<{ image: ImageInfo; pulled: { ref: string; ms: number } } | { lease?: FleetLease }> {
  const { job, options } = ctx;
  const { fleet } = options;
  if (!fleet) return {};
  const mine: FleetKey = { repositoryId: job.repositoryId, scope: job.scope, key: lookup.key };
  const reads: FleetKey[] =
    job.scope === "untrusted"
      ? [{ ...mine, scope: "trusted", key: lookup.keyFor("trusted") }, mine]
      : [mine];
  const found = await fleet.lookup(
    options.engine,
    reads,
    mine,
    job.jobId,
    (line) => ctx.say(line),
    options.signal,
    ctx.stepBase.deadline,
  );
  if (found.outcome !== "pulled") return found.lease ? { lease: found.lease } : {};
  const pulled = await lookup.find();
  if (pulled) return { image: pulled, pulled: found };
  ctx.say(`${found.ref} is not an install Kozmic recorded: installing here`);
  return {};
}

/**
 * Commits the exited install container, records the image (a hit is taken only for a
 * recorded image) and its users (its first hit then needs no probe), and hands it to the
 * fleet's push, which releases the lease.
 */
async function commitInstall(
  ctx: JobContext,
  base: ImageInfo,
  stepId: string,
  lookup: CacheLookup,
  lease: FleetLease | undefined,
): Promise<string> {
  const { job, options } = ctx;
  const { engine, settings } = options;
  const { key } = lookup;
  const createdAt = Date.now();
  const passwd = engine.readStepFile(stepId, "/etc/passwd");
  passwd.catch(() => {}); // awaited once the image exists; a commit failing first wins
  const image = await timed(options.timings, "commit", () =>
    engine.commitStep(stepId, cacheRepository(job.repositoryId), key, {
      [CACHE_LABELS.managed]: "true",
      [CACHE_LABELS.repo]: job.repositoryId,
      [CACHE_LABELS.hook]: job.hook.name,
      [CACHE_LABELS.key]: key,
      [CACHE_LABELS.scope]: job.scope,
      ...(forkOf(job) ? { [CACHE_LABELS.fork]: forkOf(job) } : {}),
      [CACHE_LABELS.created]: new Date(createdAt).toISOString(),
      ...cacheInputLabels(lookup.inputs),
    }),
  );
  const target = { repositoryId: job.repositoryId, hook: job.hook.name, key, scope: job.scope };
  await options.cacheRecords.recordCacheImage({ imageId: image, ...target, createdAt });
  await rememberImageUsers(settings.dataDir, image, {
    passwd: await passwd,
    imageUser: base.user, // a commit keeps the base image's USER
  });
  ctx.say(`install committed to ${cacheRepository(job.repositoryId)}:${key} (${image})`);
  options.fleet?.push(
    engine,
    image,
    { repositoryId: job.repositoryId, scope: job.scope, key },
    lease,
    (line) => ctx.say(line),
  );
  return image;
}

/** The image's use (which the prune reads) and the prune, beside the build. */
function afterCommit(ctx: JobContext, image: string): Promise<void> {
  const { job, options } = ctx;
  return (async () => {
    await recordCacheUse(options.settings.dataDir, image);
    await timed(options.timings, "cache prune", () =>
      pruneCache(
        options.engine,
        options.settings,
        { repositoryId: job.repositoryId, hook: job.hook.name },
        undefined,
        options.fleet?.busyImages,
      ),
    );
  })().catch((error: unknown) => ctx.say(`cache prune failed: ${(error as Error).message}`));
}

/** A cached install: the build starts from it, and the log says where it came from. */
async function takeHit(
  ctx: JobContext,
  hit: ImageInfo,
  lookup: CacheLookup,
  pulledFrom?: { ref: string; ms: number },
): Promise<InstallDone> {
  const { job, options } = ctx;
  // Which image was used last, for the prune: written beside the build, not before it.
  const beside = recordCacheUse(options.settings.dataDir, hit.id);
  beside.catch(() => {}); // awaited after the build
  const from = pulledFrom
    ? `pulled from the fleet cache ${pulledFrom.ref} in ${(pulledFrom.ms / 1000).toFixed(1)}s`
    : "local image";
  const hitKey = hit.labels[CACHE_LABELS.key] ?? lookup.key;
  ctx.sections.start("install", `Install skipped: cache hit ${hitKey.slice(0, 12)} (${from})`);
  ctx.say(`install skipped: cache hit ${hitKey} (${from})`);
  ctx.say("  why: the base image, install script and tracked files match the cached install");
  if (options.fleet && !pulledFrom && job.scope === "trusted") {
    await options.fleet.pushIfUnpushed(
      options.engine,
      hit.id,
      { repositoryId: job.repositoryId, scope: job.scope, key: lookup.key },
      (line) => ctx.say(line),
    );
  }
  ctx.sections.end("skipped");
  return { image: hit.id, cacheKey: lookup.key, cacheHit: true, beside };
}
