import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { StorageSettings } from "../../src/settings/storage-settings.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { jobQueueFrom, planQueueFrom } from "../../src/queue/open-queue.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ensureDynamoTable } from "../../src/store/dynamodb-store.js";
import { storeFrom } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/port.js";
import { FakeGitHub, generateAppKey, type TestAppKey } from "../support/fake-github/index.js";
import { freePort } from "../support/free-port.js";
import { testServices, type TestServices } from "../support/services.js";
import {
  postDelivery,
  pushPayload,
  signDelivery,
  type Delivery,
  type TargetRepository,
} from "../support/webhooks.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Each process's output, every line with its life and time, for a failure's diagnosis. */
const LOGS = join(ROOT, "test-artifacts", "fleet-kill9");

/** Runner processes, each running two jobs at a time. */
const RUNNERS = 5;
/** Installations, one repository each: the planner paces its writes per installation. */
const INSTALLATIONS = 5;
/** Pushes per repository, each to a branch of its own (a newer push would cancel an older). */
const PUSHES_PER_REPO = 4;
/** Hooks per commit; hook i's build runs for BUILD_MS[i] on the fake engine. */
const BUILD_MS = [800, 1600, 2400, 3200, 4000];
const JOBS = INSTALLATIONS * PUSHES_PER_REPO * BUILD_MS.length;
const ROUNDS = 20;
/** Deliveries of a job message before the queue dead-letters it: more than kills can cost. */
const MAX_RECEIVES = 10;
/** Short, so that a killed runner's jobs are taken over within the test. */
const RUNNER_SETTINGS = {
  concurrency: 2,
  leaseMs: 6_000,
  heartbeatMs: 1_000,
  cancelPollMs: 2_000,
  progressIntervalMs: 60_000,
  maxReceives: MAX_RECEIVES,
  pollWaitSeconds: 1,
};

/** mulberry32: a small seeded generator, so that a failing run can be replayed by its seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Role = "app" | "planner" | "runner";

/** One line a runner child printed about a job (runner-child.ts, `event ...`). */
interface JobEvent {
  kind: "claim" | "step-start" | "step-end";
  job: string;
  /** claim: its outcome; step-end: the exit code. */
  detail: string;
  owner?: string;
  previousOwner?: string;
  /** When this process read the line: after the child did what it says. */
  at: number;
  process: string;
}

/** A Kozmic process of one role, started again (same name, same settings) after each kill. */
class KozmicProcess {
  child: ChildProcess | undefined;
  ready = false;
  lives = 0;
  /** Its stdout and stderr, every life's, kept for a failure's diagnosis. */
  readonly log: string;

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly script: string,
    private readonly env: Record<string, string>,
    private readonly onLine: (process: KozmicProcess, line: string) => void,
  ) {
    mkdirSync(LOGS, { recursive: true });
    this.log = join(LOGS, `${name}.log`);
    writeFileSync(this.log, "");
  }

  /** Starts a life of it: node itself runs the script (no npx, no shell), so a signal reaches it. */
  start(): Promise<void> {
    this.lives += 1;
    this.ready = false;
    const child = spawn(process.execPath, ["--import", "tsx", this.script], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      const read = (stream: NodeJS.ReadableStream) => {
        let rest = "";
        stream.on("data", (data: Buffer) => {
          const parts = (rest + data.toString("utf8")).split("\n");
          rest = parts.pop() ?? "";
          for (const line of parts) {
            appendFileSync(this.log, `${this.lives} ${Date.now()} ${line}\n`);
            if ((line === "ready" || line === "child ready") && this.child === child) {
              this.ready = true;
              resolve();
            }
            this.onLine(this, line);
          }
        });
      };
      read(child.stdout!);
      read(child.stderr!);
      child.once("exit", (code, signal) => {
        if (this.child === child) this.ready = false;
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was ready`));
      });
    });
  }

  /** SIGKILL, to the node process itself; resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child!;
    this.ready = false;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;
  }

  /** SIGTERM: it finishes what it holds and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * 20 rounds of `kill -9` of random Kozmic processes during a burst of 100 jobs, on ElasticMQ
 * and DynamoDB Local: the app (webhooks -> planning queue), the planner and five runners, each
 * a node process of its own (a kill of a loop in this process would be no kill), sharing the
 * fake GitHub over 127.0.0.1. Runners run jobs on the fake engine (each hook's build sleeps
 * 0.8-4 s) from an empty checkout: 100 Docker jobs would take the 2-core CI machine too long.
 *
 * This process plays GitHub: it delivers 20 signed pushes (5 repositories, 4 branches each,
 * 5 hooks a commit), one every 0.5 s, and, as an operator pressing "Redeliver" would, sends a
 * delivery again (same id) until it is answered with a 2xx. Meanwhile each round picks a
 * live process (the first three rounds one of each role, in a seeded order; then any), kills
 * it with SIGKILL, waits 0.1-1 s and starts it again under the same name; the next round
 * comes 0.5-2 s later, so that a process may be killed while another is still starting.
 * The seed is printed; KOZMIC_KILL9_SEED=<seed> replays its choices (which live process, the
 * pauses), though which processes are live at a round depends on the machine's timing too.
 * About a minute in all (two on a loaded 2-core machine).
 *
 * Expected, once every process has been started again:
 * - 0 lost: each of the 100 hooks of the 20 commits has a check run concluded `success`, its
 *   job is recorded completed and reported, its build ran to its end (exit 0) at least once,
 *   and both queues are empty with nothing dead-lettered.
 * - 0 doubled: a job may run again only because the runner running it died. Precisely: a
 *   job's claim is won as "claimed" at most once, first, and otherwise only as "taken-over"
 *   from a lease owner (runner process) that had been killed before the takeover was seen
 *   (a runner killed just after its claim landed never says so: the first win seen is then
 *   a takeover from it); never from a live runner. Each hook of each commit has exactly one
 *   check run and one job.
 * - concluded once: every check run is completed, every PATCH that carries a conclusion
 *   carries the same one (`success`; a runner killed between completing the check run and
 *   recording that may have it completed again, identically, by the next), and none moves
 *   it back from completed.
 */
describe("kill -9 of random Kozmic processes during a burst of jobs (ElasticMQ, DynamoDB Local)", () => {
  let services: TestServices;
  let storage: StorageSettings;
  let fake: FakeGitHub;
  let key: TestAppKey;
  let store: Store;
  let sqs: SQSClient;
  let dir: string;
  const processes: KozmicProcess[] = [];
  const events: JobEvent[] = [];
  /** Lease owner (`<runner name>/<random>`) -> the process life it is. */
  const ownerLife = new Map<string, { process: string; life: number }>();
  /** `<process>#<life>` -> when it was killed. */
  const killedAt = new Map<string, number>();

  before(async () => {
    services = testServices();
    const { region } = services;
    sqs = new SQSClient({ endpoint: services.sqsEndpoint, region });
    const name = uniqueQueueName("kill9");
    const jobs = await ensureSqsQueues(sqs, name, MAX_RECEIVES);
    const plans = await ensureSqsQueues(sqs, `${name}-plans`, PLAN_MAX_RECEIVES);
    const table = `kill9-${randomUUID()}`;
    const dynamo = new DynamoDBClient({ endpoint: services.dynamodbEndpoint, region });
    await ensureDynamoTable(dynamo, table);
    dynamo.destroy();
    const sqsQueue = (urls: { queueUrl: string; deadLetterQueueUrl: string }, max: number) => ({
      kind: "sqs" as const,
      ...urls,
      maxReceives: max,
      region,
      endpoint: services.sqsEndpoint,
    });
    storage = {
      queue: sqsQueue(jobs, MAX_RECEIVES),
      planQueue: sqsQueue(plans, PLAN_MAX_RECEIVES),
      store: {
        kind: "dynamodb",
        table,
        logRetentionDays: 30,
        region,
        endpoint: services.dynamodbEndpoint,
      },
    };
    store = storeFrom(storage);
    key = generateAppKey();
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 91 });
    dir = mkdtempSync(join(tmpdir(), "kozmic-kill9-"));
  });

  after(async () => {
    for (const p of processes) {
      if (p.child && p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill("SIGKILL");
      }
    }
    await store?.close();
    sqs?.destroy();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A runner child's `event` and `child owner` lines, kept with the process life they came from. */
  function onLine(p: KozmicProcess, line: string) {
    const owner = /^child owner (\S+)$/.exec(line);
    if (owner) ownerLife.set(owner[1]!, { process: p.name, life: p.lives });
    const event = /^event (claim|step-start|step-end) (\S+)(?: (\S+))?(?: (\S+))?(?: (\S+))?$/.exec(
      line,
    );
    if (!event) return;
    const [, kind, job, detail, owner_, previousOwner] = event;
    events.push({
      kind: kind as JobEvent["kind"],
      job: job!,
      detail: detail ?? "",
      ...(owner_ ? { owner: owner_ } : {}),
      ...(previousOwner ? { previousOwner } : {}),
      at: Date.now(),
      process: p.name,
    });
  }

  it("20 rounds over 100 jobs: 0 lost, 0 doubled, every check run concluded once", async (t) => {
    const seed = Number(process.env.KOZMIC_KILL9_SEED ?? randomBytes(4).readUInt32BE());
    t.diagnostic(`seed ${seed} (KOZMIC_KILL9_SEED=${seed} replays its choices)`);
    const random = seededRandom(seed);
    const between = (min: number, max: number) => min + Math.floor(random() * (max - min));
    const started = Date.now();

    // The repositories and their commits: 5 hooks a commit, one commit a branch.
    const config = [
      "hooks:",
      ...BUILD_MS.map((ms, i) =>
        [
          `  - name: h${i}`,
          "    image: base",
          "    build: b",
          "    env:",
          "      FAKE_OUTPUT: ok",
          `      FAKE_SLEEP_MS: "${ms}"`,
        ].join("\n"),
      ),
      "",
    ].join("\n");
    const pushes: { target: TargetRepository; sha: string; branch: string }[] = [];
    for (let i = 0; i < INSTALLATIONS; i++) {
      const installationId = 500 + i;
      const fullName = `kill9-${installationId}/r-${randomUUID().slice(0, 6)}`;
      const record = fake.addRepository({ fullName, installationId });
      const target = { fullName, id: record.id, installationId };
      for (let b = 0; b < PUSHES_PER_REPO; b++) {
        const sha = randomBytes(20).toString("hex");
        const branch = `b${b}`;
        fake.addCommit(fullName, sha, { ".github/kozmic.yml": config }, branch);
        pushes.push({ target, sha, branch });
      }
    }

    // The processes.
    const webhookSecret = randomBytes(16).toString("hex");
    const port = await freePort();
    const webhookUrl = `http://127.0.0.1:${port}/api/github/webhooks`;
    const github = { appId: fake.appId, privateKey: key.privateKeyPem, baseUrl: fake.url };
    const make = (name: string, role: Role, script: string, variable: string, value: object) => {
      const p = new KozmicProcess(
        name,
        role,
        script,
        { [variable]: JSON.stringify(value) },
        onLine,
      );
      processes.push(p);
      return p;
    };
    make("app", "app", "test/support/app-child.ts", "KOZMIC_TEST_APP", {
      ...github,
      port,
      webhookSecret,
      publicUrl: "https://kozmic.test",
      storage,
    });
    make("planner", "planner", "test/support/planner-child.ts", "KOZMIC_TEST_PLANNER", {
      ...github,
      dataDir: dir,
      publicUrl: "https://kozmic.test",
      visibilitySeconds: 3,
      storage,
    });
    for (let i = 0; i < RUNNERS; i++) {
      const name = `runner-${i}`;
      mkdirSync(join(dir, name));
      make(name, "runner", "test/e2e/runner-child.ts", "KOZMIC_TEST_RUNNER", {
        ...github,
        dataDir: join(dir, name),
        maxReceives: MAX_RECEIVES,
        settings: { ...RUNNER_SETTINGS, name },
        rssEveryMs: 3_600_000,
        storage,
        fakeEngine: true,
      });
    }
    await Promise.all(processes.map((p) => p.start()));
    t.diagnostic(
      `${processes.length} processes ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    // GitHub: every push delivered, and delivered again (same id) until answered with a 2xx.
    const redeliveries: string[] = [];
    /** Per push (by commit): its delivery's id and each answer, for a failure's diagnosis. */
    const answers = new Map<string, string[]>();
    const deliver = async (delivery: Delivery, sha: string) => {
      const answered = [delivery.id];
      answers.set(sha, answered);
      for (let attempt = 1; ; attempt++) {
        const status = await postDelivery(webhookUrl, delivery).then(
          async (response) => `${response.status} ${await response.text()}`,
          (error: unknown) => String((error as Error).cause ?? error),
        );
        answered.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${status}`);
        if (/^2\d\d /.test(status)) return;
        redeliveries.push(`${delivery.id}: ${status}`);
        if (attempt > 200) throw new Error(`delivery ${delivery.id} never accepted: ${status}`);
        await sleep(500);
      }
    };
    const burst = (async () => {
      const sent: Promise<void>[] = [];
      for (const push of pushes) {
        const payload = pushPayload(push.target, { sha: push.sha, branch: push.branch });
        sent.push(deliver(signDelivery("push", payload, webhookSecret), push.sha));
        await sleep(500);
      }
      await Promise.all(sent);
    })();

    // The rounds.
    const kills = new Map<string, number>();
    const firstRoles: Role[] = ["app", "planner", "runner"];
    for (let i = firstRoles.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [firstRoles[i], firstRoles[j]] = [firstRoles[j]!, firstRoles[i]!];
    }
    const restarts: Promise<void>[] = [];
    const timeline: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await sleep(between(500, 2000));
      let live = processes.filter((p) => p.ready);
      const role = firstRoles[round - 1];
      if (role) live = live.filter((p) => p.role === role);
      while (live.length === 0) {
        await sleep(100);
        live = processes.filter((p) => p.ready && (!role || p.role === role));
      }
      const victim = live[Math.floor(random() * live.length)]!;
      const life = victim.lives;
      // Before the signal: a takeover seen later than this came after the kill.
      killedAt.set(`${victim.name}#${life}`, Date.now());
      await victim.kill();
      kills.set(victim.role, (kills.get(victim.role) ?? 0) + 1);
      const pause = between(100, 1000);
      timeline.push(
        `round ${round} at ${((Date.now() - started) / 1000).toFixed(1)} s: ${victim.name} (life ${life}) killed, back after ${pause} ms`,
      );
      restarts.push(sleep(pause).then(() => victim.start()));
    }
    await Promise.all(restarts);
    await burst;
    const roundsDone = Date.now();
    for (const line of timeline) t.diagnostic(line);

    // Every job's check run concluded and both queues drained (the processes still up).
    const allConcluded = () =>
      fake.checkRuns.filter((r) => r.status === "completed").length >= JOBS;
    const queueCounts = async (url: string) => {
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      );
      return Object.values(a).reduce((sum, n) => sum + Number(n), 0);
    };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const queued =
        (await queueCounts(storage.queue.kind === "sqs" ? storage.queue.queueUrl : "")) +
        (await queueCounts(storage.planQueue.kind === "sqs" ? storage.planQueue.queueUrl : ""));
      if (allConcluded() && queued === 0) break;
      if (Date.now() > deadline) {
        for (const push of pushes) {
          const of = fake.checkRunsOf(push.target.fullName, push.sha);
          if (of.length === BUILD_MS.length && of.every((r) => r.status === "completed")) continue;
          const builds = await store.findBuildsByCommit(push.target.id, push.sha);
          const jobs = (await Promise.all(builds.map((b) => store.listJobs(b.id)))).flat();
          t.diagnostic(
            `${push.target.fullName}@${push.sha} (${push.branch}): delivery ${answers.get(push.sha)?.join("; ")}; ` +
              `check runs ${of.map((r) => `${r.id} ${r.external_id} ${r.status}`).join(", ") || "none"}; ` +
              `builds ${builds.map((b) => b.id).join(", ") || "none"}; ` +
              `jobs ${jobs.map((j) => `${j.id} ${j.status} ${j.leaseOwner ?? ""} ${j.checkRunId ?? ""}`).join(", ") || "none"}`,
          );
        }
        t.diagnostic(`the processes' output: ${LOGS}`);
        assert.fail(
          `after 120 s: ${fake.checkRuns.filter((r) => r.status === "completed").length} of ${JOBS} check runs completed, ${queued} messages left`,
        );
      }
      await sleep(250);
    }
    const settled = Date.now();
    await Promise.all(processes.map((p) => p.stop()));

    // Concluded once: one check run per hook per commit, each completed with one conclusion.
    const runs = fake.checkRuns;
    const expected = pushes.flatMap((push) =>
      BUILD_MS.map((_, i) => `${push.target.fullName}@${push.sha}:h${i}`),
    );
    assert.deepEqual(
      runs.map((r) => `${r.repository}@${r.head_sha}:${r.name}`).sort(),
      expected.sort(),
      "one check run per hook of each commit",
    );
    const reconcluded: string[] = [];
    for (const run of runs) {
      assert.equal(run.status, "completed", `check run ${run.id}`);
      assert.equal(run.conclusion, "success", `check run ${run.id}`);
      const conclusions = run.updates.filter((u) => u.conclusion !== undefined);
      assert.deepEqual(
        [...new Set(conclusions.map((u) => u.conclusion))],
        ["success"],
        `check run ${run.id} concluded with one value`,
      );
      const first = run.updates.findIndex((u) => u.status === "completed");
      assert.deepEqual(
        run.updates.slice(first).filter((u) => u.status !== undefined && u.status !== "completed"),
        [],
        `check run ${run.id} moved back after its completion`,
      );
      if (conclusions.length > 1) reconcluded.push(`${run.id}: ${conclusions.length}`);
    }
    assert.deepEqual(fake.violations, [], "requests outside GitHub's API");

    // 0 lost: every job recorded completed and reported, its build ran to its end.
    const jobIds = runs.map((r) => r.external_id!);
    assert.equal(new Set(jobIds).size, JOBS, "one job per check run");
    for (const run of runs) {
      const job = await store.getJob(run.external_id!);
      assert.equal(job?.status, "completed", `job ${run.external_id}`);
      assert.equal(job?.conclusion, "success", `job ${run.external_id}`);
      assert.equal(job?.checkRunId, run.id, `job ${run.external_id}'s check run`);
      assert.ok(job?.reportedAt !== undefined, `job ${run.external_id} recorded as reported`);
      assert.ok(
        events.some((e) => e.kind === "step-end" && e.job === job.id && e.detail === "0"),
        `job ${job.id}'s build ran to its end`,
      );
    }
    const jobQueue = jobQueueFrom(storage);
    const planQueue = planQueueFrom(storage);
    try {
      assert.deepEqual(await jobQueue.receiveDeadLetters(10), [], "job messages dead-lettered");
      assert.deepEqual(await planQueue.receiveDeadLetters(10), [], "deliveries dead-lettered");
    } finally {
      await jobQueue.close();
      await planQueue.close();
    }

    // 0 doubled: a claim won again only by taking over from a runner that had been killed.
    const doubled: string[] = [];
    let takeovers = 0;
    for (const id of jobIds) {
      const wins = events.filter(
        (e) => e.job === id && e.kind === "claim" && ["claimed", "taken-over"].includes(e.detail),
      );
      if (wins.length === 0) doubled.push(`${id}: no claim won`);
      // A runner killed before it printed the claim it had won shows only as the owner a
      // later claim takes over from: so a first win seen may be a takeover, as any other.
      for (const [i, win] of wins.entries()) {
        if (win.detail === "claimed" && i === 0) continue;
        takeovers += 1;
        const holder = win.previousOwner && ownerLife.get(win.previousOwner);
        const killed = holder ? killedAt.get(`${holder.process}#${holder.life}`) : undefined;
        if (win.detail !== "taken-over" || killed === undefined || killed > win.at) {
          doubled.push(
            `${id}: won as ${win.detail} by ${win.owner} from ${win.previousOwner ?? "?"}` +
              (killed === undefined ? ", which was not killed" : ", before it was killed"),
          );
        }
      }
    }
    assert.deepEqual(doubled, [], "jobs whose claim was won while a live runner held them");

    const builds = events.filter((e) => e.kind === "step-start").length;
    t.diagnostic(
      `kills: ${[...kills].map(([role, n]) => `${role} ${n}`).join(", ")}; ` +
        `${JOBS} jobs, ${builds} builds started (${builds - JOBS} re-runs), ${takeovers} takeovers, ` +
        `${reconcluded.length} check runs completed again identically, ` +
        `${redeliveries.length} deliveries redelivered; rounds took ${((roundsDone - started) / 1000).toFixed(1)} s, ` +
        `all concluded and drained ${((settled - roundsDone) / 1000).toFixed(1)} s after, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    );
  });
});
