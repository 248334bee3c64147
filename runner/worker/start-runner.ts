import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Queue, ReceivedJob } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";
import type { Engine } from "../engine/port.js";
import { checkoutsDir } from "../source/checkout-commit.js";
import { runnerWorkspaces } from "../source/step-workspaces.js";
import { removeStepDirectories } from "../engine/step-mounts.js";
import { pruneMirrors } from "../source/prune-mirrors.js";
import { FleetCache } from "../cache/fleet-cache.js";
import { registryCredentials } from "../cache/registry-credentials.js";
import { registryWarnings } from "../cache/registry-exposure.js";
import { createGitHubAccess, type GitHubDeps } from "./github-access.js";
import { labelEngine, removeLeftoverContainers } from "./label-engine.js";
import type { StepTimings } from "../pipeline/step-timings.js";
import { processMessage } from "./process-message.js";
import {
  messageVisibilitySeconds,
  type JobControl,
  type LineLog,
  type WorkerContext,
} from "./worker-context.js";
import type { RunnerSettings } from "./read-runner-settings.js";
import type { SecretSource } from "./job-secrets.js";

export { readRunnerSettings, readAppCredentials } from "./read-runner-settings.js";
export type { RunnerSettings } from "./read-runner-settings.js";
export type { LineLog } from "./worker-context.js";

export interface RunnerDeps {
  queue: Queue;
  store: Store;
  engine: Engine;
  github: GitHubDeps;
  settings: RunnerSettings;
  /** Where the runner's own lines go (not job output). Default: stderr. */
  log?: LineLog;
  /** Durations of each job's steps (the runner benchmark's split). */
  timings?: StepTimings;
  /** Repository secrets (a SecretVault); without it, hooks that name secrets fail clearly. */
  secrets?: SecretSource;
}

export interface Runner {
  /** The lease owner id of this process: `<name>/<random>`. */
  readonly owner: string;
  /** Resolves once leftovers of a previous life are removed and the first receive is under way. */
  readonly ready: Promise<void>;
  /** Jobs running right now. */
  readonly active: number;
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
  const { queue, settings } = deps;
  const log: LineLog = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  const owner = `${settings.name}/${randomUUID().slice(0, 8)}`;
  const engine = labelEngine(deps.engine, settings.name);
  const ctx: WorkerContext = {
    queue,
    store: deps.store,
    engine,
    settings,
    github: deps.github,
    access: createGitHubAccess(deps.github, settings.progressIntervalMs),
    owner,
    log,
    ...(deps.timings ? { timings: deps.timings } : {}),
    ...(deps.secrets ? { secrets: deps.secrets } : {}),
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
  const running = new Map<
    string,
    { control: JobControl; done: Promise<void>; received: ReceivedJob; redelivered: boolean }
  >();
  const receiving = new AbortController();
  let stopping = false;
  let slotFreed: (() => void) | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const launch = (received: ReceivedJob) => {
    const key = received.body.jobId;
    const current = running.get(key);
    if (current) {
      // A redelivery of a job running here (at-least-once delivery): keep running it, with
      // the newest receipt, which is the one the queue honours for visibility and delete.
      current.received.receipt = received.receipt;
      current.received.receiveCount = received.receiveCount;
      current.redelivered = true;
      return;
    }
    const control: JobControl = new AbortController();
    const entry = { control, done: Promise.resolve(), received, redelivered: false };
    entry.done = processMessage(received, ctx, control)
      .catch((error: unknown) => {
        // Claim or store trouble before the job started: the message comes back by itself.
        log(`job ${received.body.jobId}: not started: ${(error as Error).message}`, "warn");
      })
      .then(() => (entry.redelivered ? resumeRedelivery(entry.received) : undefined))
      .finally(() => {
        if (running.get(key) === entry) running.delete(key);
        slotFreed?.();
      });
    running.set(key, entry);
  };

  // A redelivery that arrived while this runner was giving the job back (an infrastructure
  // retry) belongs to the next attempt, not to the one that just ended: run it, or it would
  // be lost, and on the last allowed receive the job would never be reported.
  const resumeRedelivery = async (received: ReceivedJob) => {
    const job = await deps.store.getJob(received.body.jobId).catch(() => undefined);
    if (job?.status !== "queued") return;
    if (stopping) {
      await queue.extendVisibility(received.receipt, 0).catch(() => {});
      return;
    }
    running.delete(received.body.jobId);
    launch(received);
  };

  const pruneUnusedMirrors = () => pruneMirrorsLogged(settings, owner, log);
  const pruning = setInterval(() => void pruneUnusedMirrors(), 6 * 3600_000);
  pruning.unref();

  const receiveLoop = async () => {
    let failures = 0;
    let first = true;
    while (!stopping) {
      const free = settings.concurrency - running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      try {
        const receive = queue.receive({
          maxMessages: Math.min(free, 10),
          waitSeconds: settings.pollWaitSeconds,
          visibilitySeconds: messageVisibilitySeconds(settings.leaseMs),
          signal: receiving.signal,
        });
        if (first) {
          first = false;
          markReady();
        }
        const batch = await receive;
        failures = 0;
        for (const received of batch) {
          if (stopping) {
            await queue.extendVisibility(received.receipt, 0).catch(() => {});
            continue;
          }
          launch(received);
        }
      } catch (error) {
        if (stopping) break;
        failures += 1;
        const wait = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        log(
          `runner ${owner}: queue receive failed (${(error as Error).message}); retrying in ${wait} ms`,
          "warn",
        );
        await sleep(wait, undefined, { signal: receiving.signal }).catch(() => {});
      }
    }
    markReady();
  };

  const loop = (async () => {
    await removePreviousLife(deps, settings, log);
    if (cacheRegistry) {
      for (const warning of await registryWarnings(cacheRegistry))
        log(`runner ${owner}: ${warning}`, "warn");
    }
    await pruneUnusedMirrors();
    log(`runner ${owner}: receiving jobs, ${settings.concurrency} at a time`);
    await receiveLoop();
  })();

  return {
    owner,
    ready,
    get active() {
      return running.size;
    },
    async stop(options = {}) {
      if (!stopping) log(`runner ${owner}: stopping; no new jobs`);
      stopping = true;
      clearInterval(pruning);
      receiving.abort();
      slotFreed?.();
      await loop;
      await finishOrReturn(
        [...running.values()],
        options.graceMs ?? settings.shutdownGraceMs,
        (count) =>
          log(
            `runner ${owner}: grace period over; cancelling ${count} job(s) and returning them to the queue`,
            "warn",
          ),
      );
      // Pushes to the fleet cache still under way get the grace period too.
      if (ctx.fleet) {
        const waited = new AbortController();
        const graceMs = options.graceMs ?? settings.shutdownGraceMs;
        await Promise.race([
          ctx.fleet.idle(),
          sleep(graceMs, undefined, { signal: waited.signal }).catch(() => {}),
        ]);
        waited.abort();
      }
      log(`runner ${owner}: stopped`);
    },
  };
}

/**
 * What a previous life of this runner (same name) left when it was killed: its checkouts
 * and its labelled containers. Their jobs are taken over when their leases expire.
 */
async function removePreviousLife(
  deps: RunnerDeps,
  settings: RunnerSettings,
  log: LineLog,
): Promise<void> {
  await rm(checkoutsDir(settings.pipeline.dataDir, settings.name), {
    recursive: true,
    force: true,
  }).catch(() => {});
  await removeStepDirectories(runnerWorkspaces(settings.pipeline.dataDir, settings.name)).catch(
    () => {},
  );
  try {
    const left = await removeLeftoverContainers(deps.engine, settings.name);
    if (left.length > 0) {
      log(
        `runner ${settings.name}: removed containers of a previous life (jobs ${left.join(", ")}); ` +
          "their jobs are taken over when their leases expire",
      );
    }
  } catch (error) {
    log(
      `runner ${settings.name}: could not list leftover containers: ${(error as Error).message}`,
      "warn",
    );
  }
}

async function pruneMirrorsLogged(
  settings: RunnerSettings,
  owner: string,
  log: LineLog,
): Promise<void> {
  try {
    const removed = await pruneMirrors(settings.pipeline.dataDir, settings.mirrorMaxAgeMs);
    if (removed.length > 0) {
      log(
        `runner ${owner}: removed git mirrors unused for a while (repositories ${removed.join(", ")})`,
      );
    }
  } catch (error) {
    log(`runner ${owner}: could not prune git mirrors: ${(error as Error).message}`, "warn");
  }
}

/**
 * Lets running jobs finish for `graceMs`, then stops the rest as a shutdown (they go back
 * to the queue), and waits for all of them.
 */
async function finishOrReturn(
  jobs: { control: JobControl; done: Promise<void> }[],
  graceMs: number,
  onGraceOver: (count: number) => void,
): Promise<void> {
  if (jobs.length === 0) return;
  const all = () => Promise.all(jobs.map((job) => job.done));
  let timer: NodeJS.Timeout | undefined;
  const expired = await Promise.race([
    all().then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (expired) {
    onGraceOver(jobs.length);
    for (const job of jobs) {
      if (!job.control.signal.aborted) {
        job.control.reason = { kind: "shutdown" };
        job.control.abort();
      }
    }
  }
  await all();
}
