import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Engine } from "../engine/port.js";
import { checkoutsDir } from "../source/checkout-commit.js";
import { runnerWorkspaces } from "../source/step-workspaces.js";
import { removeStepDirectories } from "../engine/step-mounts.js";
import { pruneMirrors } from "../source/prune-mirrors.js";
import type { CacheEntry } from "../cache/list-cache.js";
import { pruneCache } from "../cache/prune-cache.js";
import { FleetCache } from "../cache/fleet-cache.js";
import { registryCredentials } from "../cache/registry-credentials.js";
import { registryWarnings } from "../cache/registry-exposure.js";
import { describeJobNetwork } from "../pipeline/job-network.js";
import { createGitHubAccess, type GitHubDeps } from "./github-access.js";
import { labelEngine, removeLeftoverContainers } from "./label-engine.js";
import { sharedNameWarning } from "./runner-name.js";
import { diskHasRoom, engineAnswers, HostHealth } from "./host-health.js";
import { JobSlots } from "./job-slots.js";
import {
  messageVisibilitySeconds,
  ReportLanes,
  type LineLog,
  type WorkerContext,
} from "./worker-context.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";

/** What a runner is given: its ports and settings as its jobs share them, and the App's key. */
export type RunnerDeps = Pick<
  WorkerContext,
  "queue" | "store" | "engine" | "settings" | "timings" | "secrets" | "fetchSource" | "artifacts"
> & {
  github: GitHubDeps;
  /** Where the runner's own lines go (not job output). Default: stderr. */
  log?: LineLog;
};

export interface Runner {
  /** The lease owner id of this process: `<name>/<random>`. */
  readonly owner: string;
  /** Resolves once leftovers of a previous life are removed and the first receive is under way. */
  readonly ready: Promise<void>;
  /** Jobs running right now. */
  readonly active: number;
  /** Why this runner takes no jobs now (its engine down, its disk full); undefined while it does. */
  readonly hostProblem: string | undefined;
  /**
   * Stops receiving, lets running jobs finish for `graceMs` (default: the settings'
   * grace), then cancels the rest and returns them to the queue.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/**
 * The runner daemon's loop: long-polls the queue for up to `concurrency` jobs at once and
 * runs each through processMessage. A queue or store outage is logged and retried.
 */
export function startRunner(deps: RunnerDeps): Runner {
  const { settings } = deps;
  const log: LineLog = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  const owner = `${settings.name}/${randomUUID().slice(0, 8)}`;
  /** A line of this runner's own, named by its lease owner id. */
  const say: LineLog = (line, level) => log(`runner ${owner}: ${line}`, level);
  const ctx = workerContext(deps, owner, log);
  const receiving = new AbortController();
  let stopping = false;
  const slots = new JobSlots(ctx, () => stopping);
  const health = new HostHealth(
    [
      engineAnswers(deps.engine),
      diskHasRoom(settings.pipeline.dataDir, () => freeDiskSpace(deps.engine, settings, say)),
    ],
    say,
  );
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const pruneUnusedMirrors = () => pruneMirrorsLogged(settings, say);
  const pruning = setInterval(() => void pruneUnusedMirrors(), 6 * 3600_000);
  pruning.unref();

  const loop = (async () => {
    await removePreviousLife(deps, log);
    const { cacheRegistry } = settings.pipeline;
    if (cacheRegistry) {
      for (const warning of await registryWarnings(cacheRegistry)) say(warning, "warn");
    }
    const network = await describeJobNetwork(deps.engine, settings.pipeline);
    if (network.problem) say(network.detail, "warn");
    await pruneUnusedMirrors();
    say(`receiving jobs, ${settings.concurrency} at a time`);
    await receiveJobs(ctx, slots, health, receiving.signal, () => stopping, markReady);
    markReady();
  })();

  return {
    owner,
    ready,
    get active() {
      return slots.size;
    },
    get hostProblem() {
      return health.problem;
    },
    async stop(options = {}) {
      if (!stopping) say("stopping; no new jobs");
      stopping = true;
      clearInterval(pruning);
      receiving.abort();
      slots.wake();
      await loop;
      const graceMs = options.graceMs ?? settings.shutdownGraceMs;
      await slots.finishOrReturn(graceMs, (count) =>
        say(
          `grace period over; cancelling ${count} job(s) and returning them to the queue`,
          "warn",
        ),
      );
      // Reports and pushes to the fleet cache still under way get the grace period too; a
      // report left over is made by the runner that receives its message next.
      await Promise.race([
        Promise.all([ctx.reports.idle(), ctx.fleet?.idle()]),
        sleep(graceMs, undefined, { ref: false }),
      ]);
      say("stopped");
    },
  };
}

/** What every job of this runner shares: its ports, settings, GitHub access and fleet cache. */
function workerContext(deps: RunnerDeps, owner: string, log: LineLog): WorkerContext {
  const { settings } = deps;
  const ctx: WorkerContext = {
    ...deps,
    engine: labelEngine(deps.engine, settings.name),
    access: createGitHubAccess(deps.github, settings.progressIntervalMs),
    owner,
    log,
    reports: new ReportLanes(),
  };
  const { cacheRegistry } = settings.pipeline;
  if (cacheRegistry) {
    ctx.fleet = new FleetCache({
      registry: cacheRegistry,
      credentials: registryCredentials(cacheRegistry),
      store: deps.store,
      owner,
      log,
    });
  }
  return ctx;
}

/**
 * Receives messages while slots are free and the host is fit, until stopped; a receive that
 * fails backs off (0.5 s doubling to 30 s). `onFirstReceive` runs once the first long poll
 * is under way.
 */
async function receiveJobs(
  ctx: WorkerContext,
  slots: JobSlots,
  health: HostHealth,
  signal: AbortSignal,
  isStopping: () => boolean,
  onFirstReceive: () => void,
): Promise<void> {
  const { queue, settings, owner, log } = ctx;
  let failures = 0;
  let first = true;
  while (!isStopping()) {
    const free = settings.concurrency - slots.size;
    if (free <= 0) {
      await slots.whenOneEnds();
      continue;
    }
    await health.whenFit(signal);
    if (isStopping()) break;
    try {
      const receive = queue.receive({
        maxMessages: Math.min(free, 10),
        waitSeconds: settings.pollWaitSeconds,
        visibilitySeconds: messageVisibilitySeconds(settings.leaseMs),
        signal,
      });
      if (first) {
        first = false;
        onFirstReceive();
      }
      const batch = await receive;
      failures = 0;
      for (const received of batch) {
        if (isStopping()) {
          await queue.extendVisibility(received.receipt, 0).catch(() => {});
          continue;
        }
        slots.launch(received);
      }
    } catch (error) {
      if (isStopping()) break;
      failures += 1;
      const wait = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      log(
        `runner ${owner}: queue receive failed (${(error as Error).message}); retrying in ${wait} ms`,
        "warn",
      );
      await sleep(wait, undefined, { signal }).catch(() => {});
    }
  }
}

/**
 * What a previous life of this runner (same name) left when it was killed: its checkouts
 * and its labelled containers. Their jobs are taken over when their leases expire.
 */
async function removePreviousLife(deps: RunnerDeps, log: LineLog): Promise<void> {
  const { settings } = deps;
  await rm(checkoutsDir(settings.pipeline.dataDir, settings.name), {
    recursive: true,
    force: true,
  }).catch(() => {});
  await removeStepDirectories(runnerWorkspaces(settings.pipeline.dataDir, settings.name)).catch(
    () => {},
  );
  try {
    const { jobs, otherHosts } = await removeLeftoverContainers(deps.engine, settings.name);
    if (jobs.length > 0) {
      log(
        `runner ${settings.name}: removed containers of a previous life (jobs ${jobs.join(", ")}); ` +
          "their jobs are taken over when their leases expire",
      );
    }
    if (otherHosts.length > 0)
      log(`runner ${settings.name}: ${sharedNameWarning(otherHosts)}`, "warn");
  } catch (error) {
    log(
      `runner ${settings.name}: could not list leftover containers: ${(error as Error).message}`,
      "warn",
    );
  }
}

async function pruneMirrorsLogged(settings: RunnerSettings, say: LineLog): Promise<void> {
  try {
    const removed = await pruneMirrors(settings.pipeline.dataDir, settings.mirrorMaxAgeMs);
    if (removed.length > 0) {
      say(`removed git mirrors unused for a while (repositories ${removed.join(", ")})`);
    }
  } catch (error) {
    say(`could not prune git mirrors: ${(error as Error).message}`, "warn");
  }
}

/** A git mirror unused this long is fair to remove when the disk is short of space. */
const SHORT_OF_SPACE_MIRROR_AGE_MS = 3600_000;

/**
 * What a runner removes of its own before it stops taking jobs for a full disk: install
 * cache images it used beyond the newest of each repository, hook and scope (the ones a
 * next job would start from stay), and git mirrors no job used for an hour (the next job of such a
 * repository clones it again). Images in use by a container are never removed.
 */
async function freeDiskSpace(
  engine: Engine,
  settings: RunnerSettings,
  log: LineLog,
): Promise<void> {
  // Only images this runner used (their use is recorded in its data directory): another
  // runner on the same engine keeps its own.
  const usedHere = (entry: CacheEntry) => entry.lastUsed !== undefined;
  const images = await pruneCache(engine, settings.pipeline, usedHere, { keep: 1 }).catch(
    (error: unknown) => {
      log(`could not prune the install cache: ${(error as Error).message}`, "warn");
      return [];
    },
  );
  const mirrors = await pruneMirrors(settings.pipeline.dataDir, SHORT_OF_SPACE_MIRROR_AGE_MS);
  const mib = Math.round(images.reduce((sum, e) => sum + e.size, 0) / 1024 ** 2);
  log(
    `disk short of space: removed ${images.length} older install cache image(s) (${mib} MiB) ` +
      `and ${mirrors.length} git mirror(s) unused for an hour`,
  );
}
