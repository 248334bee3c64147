/**
 * The runner daemon on the real Docker engine, the fake GitHub (REST + git) and the embedded
 * queue and store (run by `npm run bench`, never by tests):
 * 1. pickup latency: message sent -> job claimed (running, its log page live), p50/p99 over
 *    BENCH_PICKUP jobs (50);
 * 2. a cache-hit job (`build: true`) end to end (message sent -> check run completed) vs a
 *    bare `docker run --rm IMAGE true`, medians of BENCH_RUNS (20), as a ratio, with
 *    Octokit's write pacing on as in production, and where its time goes step by step;
 * 3. throughput of BENCH_JOBS (200) short jobs through 1 and 2 slots, write pacing off (on,
 *    one installation's jobs would be paced to GitHub's one write a second).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { runnerGroup } from "../src/settings/runner-settings.js";
import { openEmbeddedQueue } from "../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import type { JobMessage } from "../src/core/job-message.js";
import { DockerEngine } from "../runner/engine/docker-engine.js";
import { startRunner, type Runner } from "../runner/worker/start-runner.js";
import { FakeGitHub, generateAppKey } from "../test/support/fake-github/index.js";
import { attachGitHttp } from "../test/support/fake-github/git-http.js";
import { createGitRepo } from "../test/support/git-repos.js";
import { planPush } from "../test/support/git-plan.js";
import { ensureBusyboxImage } from "../test/support/images.js";
import {
  fastSettings,
  hooksYml,
  removeCacheImagesOf,
  removeContainersOf,
  RUNNER_IMAGE,
} from "../test/e2e/runner-harness.js";

/** The runner's own timing as a user's runner has it (leases, polls, delays), not the tests'. */
const production = runnerGroup.read({});
if (!production.ok) throw new Error(production.problems.join("; "));
const TIMING = [
  "leaseMs",
  "heartbeatMs",
  "cancelPollMs",
  "progressIntervalMs",
  "inProgressDelayMs",
  "pollWaitSeconds",
] as const;
const PRODUCTION_TIMING = Object.fromEntries(
  TIMING.map((name) => [name, production.value[name]]),
) as Pick<typeof production.value, (typeof TIMING)[number]>;

const PICKUP = Number(process.env.BENCH_PICKUP ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const JOBS = Number(process.env.BENCH_JOBS ?? 200);

const key = generateAppKey();
const fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 5 });
const http = attachGitHttp(fake);
const dir = mkdtempSync(join(tmpdir(), "kozmic-runner-bench-"));
const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
const store = openEmbeddedStore({ dataDir: dir });
const record = fake.addRepository({ fullName: "bench/app", installationId: 3, private: true });
record.id = 30_000_000 + Math.floor(Math.random() * 1e9);
const git = createGitRepo(fake, http, "bench/app");
const repository = {
  id: record.id,
  fullName: "bench/app",
  cloneUrl: `${fake.origin}/bench/app.git`,
  private: true,
};
const names: string[] = [];

// How many updates each check run got and when it completed, seen as GitHub sees it.
const updates = new Map<number, number>();
const completedAt = new Map<number, number>();
fake.rawHandlers.push((req) => {
  const match = /\/check-runs\/(\d+)$/.exec(req.url ?? "");
  if (req.method === "PATCH" && match) {
    const id = Number(match[1]);
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      const body = JSON.parse(raw) as { status?: string };
      updates.set(id, (updates.get(id) ?? 0) + 1);
      if (body.status === "completed") completedAt.set(id, performance.now());
    });
  }
  return false;
});

// Each step's durations for the job being measured (part 2 runs one job at a time).
let steps = new Map<string, number>();
const timings = (step: string, ms: number) => steps.set(step, (steps.get(step) ?? 0) + ms);

/**
 * A runner in this process. `paceWrites`: a burst, then one write a second per installation, as
 * in production; off only where many jobs of one installation would measure GitHub's rule.
 */
function runnerWith(concurrency: number, paceWrites = false): Runner {
  const settings = fastSettings(dir, { concurrency, ...PRODUCTION_TIMING });
  names.push(settings.name);
  return startRunner({
    queue,
    store,
    engine: new DockerEngine(),
    github: {
      appId: fake.appId,
      privateKey: key.privateKeyPem,
      baseUrl: fake.url,
      octokitOptions: { paceWrites, retryAfterBaseValue: 1 },
    },
    settings,
    log: () => {},
    timings,
  });
}

async function prepare(config: string, sha: string, count: number): Promise<JobMessage[]> {
  const out: JobMessage[] = [];
  for (let i = 0; i < count; i++) {
    const { messages } = await planPush({
      fake,
      privateKey: key.privateKeyPem,
      queue,
      store,
      repository,
      installationId: 3,
      sha,
      config,
      send: false,
    });
    out.push(...messages);
  }
  return out;
}

async function until(probe: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(2);
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

try {
  ensureBusyboxImage(RUNNER_IMAGE);
  const quick = hooksYml({ build: "true" });
  const cached = hooksYml({ install: "echo ready > /opt/ready", build: "true" });
  const sha = git.commit({ ".github/kozmic.yml": quick, "cached.yml": cached });

  // 1. Pickup latency, one job at a time on an idle runner.
  let runner = runnerWith(2);
  await runner.ready;
  const pickup: number[] = [];
  for (const message of await prepare(quick, sha, PICKUP)) {
    const id = message.checkRunId!;
    const sent = Date.now();
    await queue.send(message);
    await until(() => completedAt.has(id), `job ${message.jobId}`);
    const job = await store.getJob(message.jobId);
    pickup.push(job!.startedAt! - sent);
  }
  console.log(
    `pickup latency (sent -> job claimed and running) over ${PICKUP} jobs: ` +
      `p50 ${percentile(pickup, 50).toFixed(0)} ms, p99 ${percentile(pickup, 99).toFixed(0)} ms`,
  );

  // 2. Cache-hit job end to end vs a bare docker run, with production's write pacing: the
  // completion may leave no sooner than a second after the in-progress update.
  await runner.stop();
  runner = runnerWith(1, true);
  await runner.ready;
  // 2. Cache-hit job end to end vs a bare docker run.
  const [warm] = await prepare(cached, sha, 1);
  await queue.send(warm!);
  await until(() => completedAt.has(warm!.checkRunId!), "the cache to fill");
  const hits: number[] = [];
  const hitIds: number[] = [];
  const bare: number[] = [];
  const split = new Map<string, number[]>();
  for (const message of await prepare(cached, sha, RUNS)) {
    const id = message.checkRunId!;
    steps = new Map();
    const sent = performance.now();
    await queue.send(message);
    await until(() => completedAt.has(id), `job ${message.jobId}`);
    hits.push(completedAt.get(id)! - sent);
    hitIds.push(id);
    await sleep(50); // the message delete after the completion
    for (const [step, ms] of steps) split.set(step, [...(split.get(step) ?? []), ms]);
    const started = performance.now();
    execFileSync("docker", ["run", "--rm", "--network", "none", RUNNER_IMAGE, "true"]);
    bare.push(performance.now() - started);
  }
  const hitMedian = percentile(hits, 50);
  const writes = percentile(
    hitIds.map((id) => updates.get(id) ?? 0),
    50,
  );
  const bareMedian = percentile(bare, 50);
  console.log(
    `cache-hit job (build: true) end to end, median of ${RUNS}: ${hitMedian.toFixed(0)} ms`,
  );
  console.log(
    `docker run --rm ${RUNNER_IMAGE} true, median of ${RUNS}: ${bareMedian.toFixed(0)} ms`,
  );
  console.log(
    `overhead ratio (job end to end / bare docker run): ${(hitMedian / bareMedian).toFixed(2)}`,
  );
  console.log(`check-run updates per cache-hit job (median): ${writes}`);
  console.log(
    "where a cache-hit job's time goes (median per step, share of the end-to-end median;" +
      " container and volume removal overlap the completion update):",
  );
  // A step a job did not take (the in-progress update of a short job) counts as 0 ms for it.
  const rows = [...split.entries()]
    .map(([step, values]) => ({
      step,
      ms: percentile([...values, ...Array<number>(RUNS - values.length).fill(0)], 50),
    }))
    .sort((a, b) => b.ms - a.ms);
  for (const { step, ms } of rows) {
    console.log(
      `  ${step.padEnd(24)} ${ms.toFixed(1).padStart(7)} ms  ${((100 * ms) / hitMedian).toFixed(1).padStart(5)} %`,
    );
  }
  const accounted = rows.reduce((sum, row) => sum + row.ms, 0);
  console.log(
    `  ${"(between and beside steps)".padEnd(24)} ${(hitMedian - accounted).toFixed(1).padStart(7)} ms  ` +
      `${((100 * (hitMedian - accounted)) / hitMedian).toFixed(1).padStart(5)} %`,
  );
  await runner.stop();

  // 3. Throughput: all jobs queued at once, drained by one runner with 1 then 2 slots.
  for (const slots of [1, 2]) {
    const messages = await prepare(quick, sha, JOBS);
    runner = runnerWith(slots);
    await runner.ready;
    const started = performance.now();
    await queue.sendBatch(messages);
    await until(
      () => messages.every((m) => completedAt.has(m.checkRunId!)),
      `${JOBS} jobs`,
      30 * 60_000,
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `throughput, ${JOBS} jobs (build: true) with ${slots} slot(s): ${seconds.toFixed(1)} s, ` +
        `${(JOBS / seconds).toFixed(2)} jobs/s`,
    );
    await runner.stop();
  }
  if (fake.violations.length > 0)
    throw new Error(`GitHub API violations: ${JSON.stringify(fake.violations)}`);
} finally {
  for (const name of names) removeContainersOf(name);
  removeCacheImagesOf([record.id]);
  await queue.close();
  await store.close();
  http.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
