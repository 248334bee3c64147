import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { FakeEngine } from "./fake-engine.js";
import { startRunner, type Runner } from "../../runner/worker/start-runner.js";
import type { GitHubDeps } from "../../runner/worker/github-access.js";
import { checkoutsDir, type SourceFetcher } from "../../runner/source/checkout-commit.js";
import type { StepTimings } from "../../runner/pipeline/step-timings.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { planJobs } from "../../src/core/plan-jobs.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import type { InspectableQueue, Queue } from "../../src/queue/port.js";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { ClaimResult, Store } from "../../src/store/port.js";
import { fastSettings } from "../e2e/runner-harness.js";
import { FakeGitHub, generateAppKey, type FakeCheckRun } from "./fake-github/index.js";
import type { TestServices } from "./services.js";

/** A queue and store pair every runner of a fleet shares. */
export interface FleetBackend {
  name: string;
  store: Store;
  queue: InspectableQueue;
  close(): Promise<void>;
}

/** The embedded store and queue (one SQLite file) in a new directory. */
export function embeddedBackend(): FleetBackend {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-fleet-db-"));
  const store = openEmbeddedStore({ dataDir: dir });
  const queue = openEmbeddedQueue({ dataDir: dir, name: "fleet", log: () => {} });
  return {
    name: "embedded (SQLite)",
    store,
    queue,
    async close() {
      await queue.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A new SQS queue on ElasticMQ and table on DynamoDB Local; `endpoints` puts something (a
 * fault proxy) in front of them. `maxAttempts` is the SDK clients' (default: the SDK's 3).
 */
export async function awsBackend(
  services: TestServices,
  options: { endpoints?: { sqs: string; dynamodb: string }; maxAttempts?: number } = {},
): Promise<FleetBackend> {
  const { region } = services;
  const attempts = options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {};
  const setupSqs = new SQSClient({ endpoint: services.sqsEndpoint, region });
  const setupDynamo = new DynamoDBClient({ endpoint: services.dynamodbEndpoint, region });
  const urls = await ensureSqsQueues(setupSqs, uniqueQueueName("fleet"), 5);
  const table = `fleet-${randomUUID()}`;
  await ensureDynamoTable(setupDynamo, table);
  setupSqs.destroy();
  setupDynamo.destroy();
  const sqs = new SQSClient({
    endpoint: options.endpoints?.sqs ?? services.sqsEndpoint,
    region,
    ...attempts,
  });
  const dynamo = new DynamoDBClient({
    endpoint: options.endpoints?.dynamodb ?? services.dynamodbEndpoint,
    region,
    ...attempts,
  });
  const queue = openSqsQueue({ ...urls, client: sqs, log: () => {} });
  const store = openDynamoStore({ table, client: dynamo });
  return {
    name: "SQS (ElasticMQ) and DynamoDB (DynamoDB Local)",
    store,
    queue,
    async close() {
      await queue.close();
      await store.close();
      sqs.destroy();
      dynamo.destroy();
    },
  };
}

/** A fake engine that counts the steps each job ran (by the container's job label). */
export class CountingEngine extends FakeEngine {
  readonly stepsOf = new Map<string, number>();

  override runStep(id: string, onOutput: (text: string) => void): Promise<number> {
    const job = this.containers.get(id)?.spec.labels["kozmic.job"];
    if (job) this.stepsOf.set(job, (this.stepsOf.get(job) ?? 0) + 1);
    return super.runStep(id, onOutput);
  }
}

/** `store` as it is, except that every claim's result is handed to `observe` once it is known. */
export function claimObservingStore(
  store: Store,
  observe: (jobId: string, result: ClaimResult) => void,
): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name !== "claimJob") return Reflect.get(target, name, receiver) as unknown;
      return async (...args: Parameters<Store["claimJob"]>) => {
        const result = await target.claimJob(...args);
        observe(args[0], result);
        return result;
      };
    },
  });
}

/** `store` as it is, except that every claim won (claimed or taken over) is counted per job. */
export function claimCountingStore(store: Store, wins: Map<string, number>): Store {
  return claimObservingStore(store, (jobId, result) => {
    if (result.outcome === "claimed" || result.outcome === "taken-over") {
      wins.set(jobId, (wins.get(jobId) ?? 0) + 1);
    }
  });
}

/**
 * An empty directory as the job's checkout: 50 runner loops share this process's one
 * thread, where git's few process spawns per job would be all a fleet test measures.
 */
export const standInSource: SourceFetcher = async (request) => {
  const dir = join(checkoutsDir(request.dataDir, request.runnerName), request.jobId);
  await mkdir(dir, { recursive: true });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
};

/** Jobs planned in one build: a config of this many hooks. */
const HOOKS_PER_BUILD = 20;

/** How FleetScene.startRunners starts its runners; each field overrides the scene's default. */
export interface RunnerOptions {
  settings?: Partial<RunnerSettings>;
  github?: Partial<GitHubDeps>;
  /** Wraps the store each runner uses (to count or time its calls). */
  store?: (store: Store) => Store;
  /** Wraps the queue each runner uses (to drop or fail its calls). */
  queue?: (queue: Queue) => Queue;
  timings?: StepTimings;
}

/** What a fleet run left behind, counted per job. */
export interface FleetTally {
  /** Jobs whose build step ran other than exactly once. */
  notRunOnce: string[];
  /** Jobs whose claim was won other than exactly once. */
  notClaimedOnce: string[];
  /** Jobs with other than one check run, or one completed other than exactly once. */
  notReportedOnce: string[];
  /** Check-run writes (POST and PATCH) the fake GitHub took, per installation. */
  writes: Map<number, number>;
}

/**
 * A fake GitHub with one repository per installation (each with a commit whose config
 * has HOOKS_PER_BUILD hooks that print and exit 0 on the fake engine), and a fleet of
 * runner loops in this process around a shared backend.
 */
export class FleetScene {
  readonly engine = new CountingEngine();
  readonly claimWins = new Map<string, number>();
  readonly runners: Runner[] = [];
  /** The runners' warnings and errors (their other lines are dropped). */
  readonly warnings: string[] = [];
  private readonly dataDir = mkdtempSync(join(tmpdir(), "kozmic-fleet-"));
  private readonly repos = new Map<number, { id: number; fullName: string; sha: string }>();

  private constructor(
    readonly fake: FakeGitHub,
    private readonly privateKey: string,
    private readonly config: string,
  ) {
    this.engine.addImage("base");
  }

  static async start(installations: readonly number[]): Promise<FleetScene> {
    const key = generateAppKey();
    const fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 71 });
    const config = [
      "hooks:",
      ...Array.from({ length: HOOKS_PER_BUILD }, (_, i) =>
        [
          `  - name: h${i}`,
          "    image: base",
          "    build: b",
          "    env:",
          "      FAKE_OUTPUT: ok",
        ].join("\n"),
      ),
      "",
    ].join("\n");
    const scene = new FleetScene(fake, key.privateKeyPem, config);
    for (const installationId of installations) {
      const fullName = `fleet-${installationId}/r-${randomUUID().slice(0, 6)}`;
      const record = fake.addRepository({ fullName, installationId });
      const sha = randomBytes(20).toString("hex");
      fake.addCommit(fullName, sha, { ".github/kozmic.yml": config }, "main");
      scene.repos.set(installationId, { id: record.id, fullName, sha });
    }
    return scene;
  }

  /**
   * Plans `count` jobs of `installationId`'s repository in builds of `perBuild` (at most
   * 20) and sends them.
   */
  async enqueue(
    backend: FleetBackend,
    count: number,
    installationId: number,
    perBuild = HOOKS_PER_BUILD,
  ): Promise<string[]> {
    const repo = this.repos.get(installationId)!;
    const ids: string[] = [];
    while (ids.length < count) {
      const plan = planJobs(
        parseConfig(this.config),
        {
          event: "push",
          installationId,
          repository: {
            id: repo.id,
            fullName: repo.fullName,
            cloneUrl: `${this.fake.origin}/${repo.fullName}.git`,
            private: false,
          },
          sha: repo.sha,
          ref: "refs/heads/main",
          trigger: "octocat",
        },
        { newId: () => randomUUID(), now: Date.now() },
      );
      const jobs = plan.jobs.slice(0, Math.min(perBuild, count - ids.length));
      await backend.store.createBuild(
        plan.build,
        jobs.map((j) => j.record),
      );
      // No check run yet: the runner creates it, so a job run twice would show as two.
      for (let i = 0; i < jobs.length; i += 10) {
        await backend.queue.sendBatch(jobs.slice(i, i + 10).map((j) => j.message));
      }
      ids.push(...jobs.map((j) => j.record.id));
    }
    return ids;
  }

  /** Starts `count` runner loops (concurrency 1 each unless `options.settings` says otherwise). */
  startRunners(backend: FleetBackend, count: number, options: RunnerOptions = {}): Runner[] {
    const { settings: overrides = {}, store = (s: Store) => s, timings } = options;
    const queue = options.queue ?? ((q: Queue) => q);
    const started = Array.from({ length: count }, (_, i) =>
      startRunner({
        queue: queue(backend.queue),
        store: claimCountingStore(store(backend.store), this.claimWins),
        engine: this.engine,
        github: {
          appId: this.fake.appId,
          privateKey: this.privateKey,
          baseUrl: this.fake.url,
          octokitOptions: { paceWrites: false, retryAfterBaseValue: 1 },
          retryBaseMs: 10,
          attempts: 3,
          ...options.github,
        },
        // Each runner its own data directory (git mirror, checkouts), as on its own host.
        settings: fastSettings(join(this.dataDir, `host-${this.runners.length + i}`), {
          concurrency: 1,
          // Jobs end within the delay: a check run goes queued -> completed, two writes.
          inProgressDelayMs: 60_000,
          progressIntervalMs: 60_000,
          leaseMs: 30_000,
          heartbeatMs: 5_000,
          cancelPollMs: 5_000,
          ...overrides,
        }),
        log: (line, level) => {
          if (level) this.warnings.push(line);
        },
        fetchSource: standInSource,
        ...(timings ? { timings } : {}),
      }),
    );
    this.runners.push(...started);
    return started;
  }

  /** Check runs of the given jobs, by job id (the runner sets external_id to it). */
  runsOf(jobIds: readonly string[]): Map<string, FakeCheckRun[]> {
    const wanted = new Set(jobIds);
    const runs = new Map<string, FakeCheckRun[]>();
    for (const run of this.fake.checkRuns) {
      if (run.external_id === null || !wanted.has(run.external_id)) continue;
      runs.set(run.external_id, [...(runs.get(run.external_id) ?? []), run]);
    }
    return runs;
  }

  /** Jobs of `jobIds` whose check run is completed. */
  completed(jobIds: readonly string[]): number {
    let done = 0;
    for (const runs of this.runsOf(jobIds).values()) {
      if (runs.some((run) => run.status === "completed")) done += 1;
    }
    return done;
  }

  /** Waits until every job's check run is completed; throws after `ms`. */
  async untilCompleted(jobIds: readonly string[], ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.completed(jobIds) < jobIds.length) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.completed(jobIds)} of ${jobIds.length} jobs completed within ${ms / 1000} s; ` +
            `the runners' last warnings:\n${this.warnings.slice(-40).join("\n")}`,
        );
      }
      await sleep(50);
    }
  }

  tally(jobIds: readonly string[]): FleetTally {
    const runs = this.runsOf(jobIds);
    const once = (map: Map<string, number>) => jobIds.filter((id) => map.get(id) !== 1);
    const notReportedOnce = jobIds.filter((id) => {
      const of = runs.get(id) ?? [];
      if (of.length !== 1) return true;
      const completions = of[0]!.updates.filter((u) => u.status === "completed").length;
      return completions !== 1 || of[0]!.conclusion !== "success";
    });
    const writes = new Map<number, number>();
    for (const request of this.fake.requests) {
      if (!/\/check-runs/.test(request.path) || request.method === "GET") continue;
      const owner = /^\/repos\/fleet-(\d+)\//.exec(request.path)?.[1];
      if (owner) writes.set(Number(owner), (writes.get(Number(owner)) ?? 0) + 1);
    }
    return {
      notRunOnce: once(this.engine.stepsOf),
      notClaimedOnce: once(this.claimWins),
      notReportedOnce,
      writes,
    };
  }

  async stopRunners(): Promise<void> {
    await Promise.all(this.runners.splice(0).map((runner) => runner.stop()));
  }

  async close(): Promise<void> {
    await this.stopRunners();
    await this.fake.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
