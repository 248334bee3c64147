import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import type { InspectableQueue } from "../../src/queue/port.js";
import type { PlanMessage } from "../../src/core/plan-message.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { readSettings } from "../../src/settings/read-settings.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";
import { startRunner, type Runner, type RunnerDeps } from "../../runner/worker/start-runner.js";
import {
  FakeGitHub,
  generateAppKey,
  type FakeCheckRun,
  type TestAppKey,
} from "../support/fake-github/index.js";
import { attachGitHttp, type FakeGitHttp } from "../support/fake-github/git-http.js";
import { planPush } from "../support/git-plan.js";
import { createGitRepo, type GitRepo } from "../support/git-repos.js";
import { ensureBusyboxImage } from "../support/images.js";
import { startApp, type StartedApp } from "../support/start-app.js";
import {
  postDelivery,
  pushPayload,
  signDelivery,
  type TargetRepository,
} from "../support/webhooks.js";

export const RUNNER_IMAGE = "kozmic-test-runner-busybox:1";
export const INSTALLATION = 77;

/** Runner settings scaled down so that leases, heartbeats and retries take test time. */
export function fastSettings(
  dataDir: string,
  overrides: Partial<RunnerSettings> = {},
): RunnerSettings {
  return {
    name: `test-runner-${randomUUID().slice(0, 8)}`,
    concurrency: 2,
    publicUrl: "https://kozmic.test",
    logCapBytes: 50 * 1024 * 1024,
    shutdownGraceMs: 5_000,
    maxReceives: 5,
    pipeline: readSettings({ KOZMIC_DATA_DIR: dataDir, KOZMIC_DEFAULT_MEMORY: "256m" }, [
      "pipeline",
    ]).pipeline,
    // Long enough that a slow CI machine's stalls (seconds at a time) never lapse a lease.
    leaseMs: 10_000,
    heartbeatMs: 1_000,
    cancelPollMs: 300,
    progressIntervalMs: 300,
    // Every job goes in progress at once, so tests see each state; the delay has its own test.
    inProgressDelayMs: 0,
    retryBaseSeconds: 0,
    mirrorMaxAgeMs: 14 * 24 * 3600_000,
    pollWaitSeconds: 1,
    ...overrides,
  };
}

export interface ChildRunner {
  child: ChildProcess;
  /** Its stdout lines so far. */
  lines: string[];
  exited: Promise<number | null>;
  /** RSS samples so far, in bytes. */
  rss(): number[];
}

export interface HarnessOptions {
  queue?: InspectableQueue;
  /** Planning messages; given with `queue` (else an embedded one). */
  planQueue?: InspectableQueue<PlanMessage>;
  store?: Store;
  maxReceives?: number;
}

/**
 * The whole system on one machine: the fake GitHub (REST + git), the app's real server,
 * an embedded queue and store (or given adapters), real Docker, and runners on demand.
 */
export class RunnerHarness {
  readonly runners: Runner[] = [];
  readonly runnerLog: string[] = [];
  readonly nonce = randomUUID().slice(0, 8);
  private repoCounter = 0;
  private readonly repoIds: number[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly runnerNames = new Set<string>();

  private constructor(
    readonly fake: FakeGitHub,
    readonly git: FakeGitHttp,
    readonly appKey: TestAppKey,
    readonly queue: InspectableQueue,
    readonly store: Store,
    readonly app: StartedApp,
    readonly dir: string,
    private readonly ownsStorage: boolean,
    readonly maxReceives: number,
    /** What the embedded queue logged (dead-lettered messages). */
    readonly queueLog: string[],
    private readonly closePlanQueue: () => Promise<void>,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<RunnerHarness> {
    ensureBusyboxImage(RUNNER_IMAGE);
    const appKey = generateAppKey();
    const fake = await FakeGitHub.start({ appPublicKey: appKey.publicKeyPem, appId: 4242 });
    const git = attachGitHttp(fake);
    const dir = mkdtempSync(join(tmpdir(), "kozmic-runner-e2e-"));
    const queueLog: string[] = [];
    const queue =
      options.queue ??
      openEmbeddedQueue({
        dataDir: dir,
        maxReceives: options.maxReceives ?? 5,
        log: (line) => queueLog.push(line),
      });
    const store = options.store ?? openEmbeddedStore({ dataDir: dir });
    const planQueue =
      options.planQueue ??
      openEmbeddedQueue({ dataDir: dir, name: "plans", kind: PLAN_MESSAGES, log: () => {} });
    const app = await startApp({
      fake,
      appKey,
      queue,
      planQueue,
      store,
      publicUrl: "https://kozmic.test",
    });
    const closePlanQueue = () => planQueue.close();
    return new RunnerHarness(
      fake,
      git,
      appKey,
      queue,
      store,
      app,
      dir,
      !options.queue,
      options.maxReceives ?? 5,
      queueLog,
      closePlanQueue,
    );
  }

  /** Starts a runner in this process against the harness's queue, store and fake. */
  startRunner(overrides: Partial<RunnerSettings> = {}, deps: Partial<RunnerDeps> = {}): Runner {
    const settings = fastSettings(this.dir, overrides);
    this.runnerNames.add(settings.name);
    const runner = startRunner({
      queue: this.queue,
      store: this.store,
      engine: new DockerEngine(),
      github: {
        appId: this.fake.appId,
        privateKey: this.appKey.privateKeyPem,
        baseUrl: this.fake.url,
        octokitOptions: { paceWrites: false, retryAfterBaseValue: 1 },
        retryBaseMs: 100,
      },
      settings,
      log: (line) => this.runnerLog.push(line),
      ...deps,
    });
    this.runners.push(runner);
    return runner;
  }

  /**
   * A runner in a child process (same queue, store and fake), to be killed or measured;
   * `env` adds to its environment (DOCKER_HOST: another engine).
   */
  spawnRunner(
    settings: Partial<RunnerSettings> & { name: string },
    rssEveryMs = 100,
    env: NodeJS.ProcessEnv = {},
  ): ChildRunner {
    const lines: string[] = [];
    this.runnerNames.add(settings.name);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", new URL("./runner-child.ts", import.meta.url).pathname],
      {
        env: {
          ...process.env,
          ...env,
          KOZMIC_TEST_RUNNER: JSON.stringify({
            dataDir: this.dir,
            baseUrl: this.fake.url,
            appId: this.fake.appId,
            privateKey: this.appKey.privateKeyPem,
            maxReceives: this.maxReceives,
            settings,
            rssEveryMs,
          }),
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let rest = "";
    child.stdout!.on("data", (data: Buffer) => {
      const text = rest + data.toString("utf8");
      const parts = text.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    this.children.push(child);
    return {
      child,
      lines,
      exited,
      rss: () => lines.filter((l) => l.startsWith("rss ")).map((l) => Number(l.slice(4))),
    };
  }

  /** A repository on the fake with real commits behind its git endpoint. */
  repository(): { git: GitRepo; target: TargetRepository } {
    this.repoCounter += 1;
    const fullName = `acme/runner-${this.nonce}-${this.repoCounter}`;
    const record = this.fake.addRepository({
      fullName,
      installationId: INSTALLATION,
      private: true,
    });
    // A fresh id per run keeps cache images of earlier runs (same key inputs) out of the test.
    record.id = 10_000_000 + Math.floor(Math.random() * 1_000_000_000);
    this.repoIds.push(record.id);
    return {
      git: createGitRepo(this.fake, this.git, fullName),
      target: {
        fullName,
        id: record.id,
        installationId: INSTALLATION,
        private: true,
        cloneUrl: `${this.fake.origin}/${fullName}.git`,
      },
    };
  }

  /** What the app does for a push of `sha` with `config`, without the app (see planPush). */
  planPush(
    target: TargetRepository,
    sha: string,
    config: string,
    options: { send?: boolean } = {},
  ) {
    return planPush({
      fake: this.fake,
      privateKey: this.appKey.privateKeyPem,
      queue: this.queue,
      store: this.store,
      repository: {
        id: target.id,
        fullName: target.fullName,
        cloneUrl: target.cloneUrl!,
        private: target.private ?? false,
      },
      installationId: target.installationId,
      sha,
      config,
      ...options,
    });
  }

  /**
   * Delivers a push of `sha` to the app, as GitHub would, and waits for the app's planner
   * to have done its GitHub work.
   */
  async push(target: TargetRepository, sha: string, branch = "main"): Promise<void> {
    const delivery = signDelivery("push", pushPayload(target, { sha, branch }), this.app.secret);
    const response = await postDelivery(this.app.webhookUrl, delivery);
    if (response.status >= 300) {
      throw new Error(`push delivery answered ${response.status}: ${await response.text()}`);
    }
    await this.app.idle();
  }

  checkRuns(target: TargetRepository, sha?: string): FakeCheckRun[] {
    return this.fake.checkRunsOf(target.fullName, sha);
  }

  /**
   * Waits for a check run of the commit to complete and for its job (the run's external id)
   * to be final in the store: the runner records the job just after completing the run.
   */
  async completed(target: TargetRepository, sha: string, name = "test", timeoutMs = 180_000) {
    const run = await this.waitFor(
      `check run "${name}" of ${sha.slice(0, 8)} completed`,
      () => {
        const found = this.checkRuns(target, sha).find((r) => r.name === name);
        return found && found.status === "completed" ? found : undefined;
      },
      timeoutMs,
    );
    if (run.external_id) {
      const jobId = run.external_id;
      await this.waitFor(
        `job ${jobId} final in the store`,
        async () => {
          const job = await this.store.getJob(jobId);
          return job && (job.status === "completed" || job.status === "errored") ? true : undefined;
        },
        60_000,
      );
    }
    return run;
  }

  async logOf(jobId: string): Promise<string> {
    let text = "";
    let next = 0;
    for (;;) {
      const page = await this.store.readLog(jobId, next, 1000);
      if (page.length === 0) return text;
      text += page.map((c) => c.data).join("");
      next = page[page.length - 1]!.seq + 1;
    }
  }

  async waitFor<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    timeoutMs = 180_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        const appTrouble = this.app.logs
          .filter((l) => typeof l.level === "number" && l.level >= 40)
          .slice(-10)
          .map(
            (l) => `${String(l.msg)}${l.err ? ` (${JSON.stringify(l.err).slice(0, 500)})` : ""}`,
          );
        throw new Error(
          `timed out waiting for ${what}; runner log:\n${this.runnerLog.slice(-30).join("\n")}` +
            `\napp warnings and errors:\n${appTrouble.join("\n") || "(none)"}`,
        );
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(this.runners.map((runner) => runner.stop({ graceMs: 0 })));
    await this.app.stop();
    this.git.close();
    await this.fake.close();
    await this.closePlanQueue();
    if (this.ownsStorage) {
      await this.queue.close();
      await this.store.close();
    }
    removeCacheImagesOf(this.repoIds);
    for (const name of this.runnerNames) removeContainersOf(name);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Removes the cache images of these repositories (kozmic.cache.repo label). */
export function removeCacheImagesOf(repoIds: readonly number[]): void {
  for (const repoId of repoIds) {
    const ids = execFileSync(
      "docker",
      ["images", "-q", "--filter", `label=kozmic.cache.repo=${repoId}`],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter(Boolean);
    for (const id of new Set(ids)) {
      try {
        execFileSync("docker", ["image", "rm", "-f", id], { stdio: "ignore" });
      } catch {
        // already gone
      }
    }
  }
}

/** Removes the containers and volumes a runner of this name left (it was killed). */
export function removeContainersOf(runnerName: string): void {
  const list = (args: string[]) =>
    execFileSync("docker", [...args, "--filter", `label=kozmic.runner=${runnerName}`], {
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
  const containers = list(["ps", "-aq"]);
  if (containers.length > 0)
    execFileSync("docker", ["rm", "-f", ...containers], { stdio: "ignore" });
  const volumes = list(["volume", "ls", "-q"]);
  if (volumes.length > 0)
    execFileSync("docker", ["volume", "rm", "-f", ...volumes], { stdio: "ignore" });
}

/**
 * A build script that says `first` and then waits, however long, until the test lets it go on
 * (releaseBuilds), then says "finished": a signal or an outage lands mid-build whatever the
 * machine's load, and the attempt that finishes the job takes no fixed time.
 */
export function gatedBuild(first = "started"): string {
  return `echo ${first}\nuntil [ -e /tmp/go ]; do sleep 0.1; done\necho finished`;
}

/** Lets the gated builds (gatedBuild) running in the containers of these runners go on. */
export function releaseBuilds(...runnerNames: string[]): void {
  for (const name of runnerNames) {
    const ids = execFileSync("docker", ["ps", "-q", "--filter", `label=kozmic.runner=${name}`], {
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
    for (const id of ids) {
      try {
        execFileSync("docker", ["exec", id, "touch", "/tmp/go"], { stdio: "ignore" });
      } catch {
        // gone since
      }
    }
  }
}

/** How many lines of a log are exactly `line`. */
export function linesOf(log: string, line: string): number {
  return log.split("\n").filter((l) => l === line).length;
}

/** `.github/kozmic.yml` with one hook named "test" on the test image. */
export function hooksYml(hook: {
  build: string;
  install?: string;
  tracked?: string[];
  timeout?: string;
  name?: string;
  reports?: string[];
  /** The `artifacts:` value as YAML, e.g. `[dist/*.whl]`. */
  artifacts?: string;
}): string {
  const lines = [
    "hooks:",
    `  - name: ${hook.name ?? "test"}`,
    `    image: ${RUNNER_IMAGE}`,
    "    build: |",
    ...hook.build.split("\n").map((l) => `      ${l}`),
  ];
  if (hook.install) {
    lines.push("    install: |", ...hook.install.split("\n").map((l) => `      ${l}`));
  }
  if (hook.tracked)
    lines.push(`    tracked_files: [${hook.tracked.map((t) => JSON.stringify(t)).join(", ")}]`);
  if (hook.timeout) lines.push(`    timeout: ${hook.timeout}`);
  if (hook.reports)
    lines.push(`    reports: [${hook.reports.map((r) => JSON.stringify(r)).join(", ")}]`);
  if (hook.artifacts) lines.push(`    artifacts: ${hook.artifacts}`);
  return lines.join("\n") + "\n";
}
