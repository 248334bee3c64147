import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { installationOctokits } from "../../src/planner/installation-octokits.js";
import type { PlannerDeps } from "../../src/planner/planner-deps.js";
import { startBuild } from "../../src/planner/start-build.js";
import { startPlanner } from "../../src/planner/start-planner.js";
import type { PlanMessage } from "../../src/core/plan-message.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import type { InspectableQueue, ReceivedJob } from "../../src/queue/port.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";

const HOOKS = ["a", "b", "c"];
const CONFIG = [
  "hooks:",
  ...HOOKS.map((name) => `  - name: ${name}\n    image: alpine:3\n    build: echo ${name}`),
  "",
].join("\n");

/**
 * The planner dies (kill -9) after a job's message is sent and before its check run id is
 * recorded (start-build.ts queueJob), a runner claims the job, then the delivery is planned
 * again: the retry records the id of the check run it finds, so the job's record links its
 * check run (the job page's link), and no second check run is made. Found by
 * fleet-kill9.test.ts, where such a job was left without its check run id for good.
 */
describe("a delivery planned again", () => {
  let fake: FakeGitHub;
  let store: Store;
  let queue: InspectableQueue;
  let dir: string;
  let deps: PlannerDeps;
  const key = generateAppKey();

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 61 });
    dir = mkdtempSync(join(tmpdir(), "kozmic-plan-resume-"));
    store = openEmbeddedStore({ dataDir: dir });
    queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    const quiet = () => {};
    deps = {
      store,
      jobQueue: queue,
      publicUrl: "https://kozmic.test",
      octokitFor: installationOctokits({
        appId: fake.appId,
        privateKey: key.privateKeyPem,
        baseUrl: fake.url,
        octokitOptions: { paceWrites: false, retryAfterBaseValue: 1 },
      }),
      now: Date.now,
      log: { info: quiet, warn: quiet, error: quiet },
    };
  });
  const repositoryOf = (id: number, fullName: string) => ({
    id,
    fullName,
    cloneUrl: `${fake.origin}/${fullName}.git`,
    private: false,
  });

  after(async () => {
    await queue?.close();
    await store?.close();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("after a planner died between sending a job and recording its check run, the retry records the id of the check run a runner already reports to", async () => {
    const fullName = "acme/resume";
    const record = fake.addRepository({ fullName, installationId: 8 });
    const sha = randomBytes(20).toString("hex");
    fake.addCommit(fullName, sha, { ".github/kozmic.yml": CONFIG }, "main");
    const input = async () => ({
      octokit: await deps.octokitFor(8),
      deliveryId: "delivery-1",
      owner: "acme",
      repo: "resume",
      facts: {
        event: "push" as const,
        installationId: 8,
        repository: repositoryOf(record.id, fullName),
        sha,
        ref: "refs/heads/main",
        trigger: "octocat",
      },
    });

    // The first try: every message sent, then the process dies before any id is recorded.
    const dying = new Proxy(store, {
      get(target, name, receiver) {
        if (name !== "updateJob") return Reflect.get(target, name, receiver) as unknown;
        return (...args: Parameters<Store["updateJob"]>) =>
          "checkRunId" in args[2] ? Promise.reject(new Error("killed")) : target.updateJob(...args);
      },
    });
    await assert.rejects(startBuild({ ...deps, store: dying }, await input()), /killed/);
    // The other jobs' tries go on after the first one's failure ended startBuild.
    const messages: ReceivedJob[] = [];
    for (let tries = 0; messages.length < HOOKS.length && tries < 100; tries++) {
      messages.push(...(await queue.receive({ maxMessages: 10, visibilitySeconds: 60 })));
      await sleep(50);
    }
    assert.equal(messages.length, HOOKS.length);
    // A runner takes each job before the planner's retry.
    for (const message of messages) {
      assert.equal(
        (await store.claimJob(message.body.jobId, "runner/1", 60_000)).outcome,
        "claimed",
      );
    }

    const outcome = await startBuild(deps, await input());
    assert.equal(outcome.outcome, "queued");
    const runs = fake.checkRunsOf(fullName, sha);
    assert.equal(runs.length, HOOKS.length, "one check run per hook");
    for (const message of messages) {
      const job = await store.getJob(message.body.jobId);
      assert.equal(job?.status, "running");
      assert.equal(job?.leaseOwner, "runner/1");
      assert.equal(job?.checkRunId, message.body.checkRunId, `job ${job?.hook}'s check run id`);
      assert.equal(runs.find((r) => r.external_id === job?.id)?.id, job?.checkRunId);
    }
    assert.deepEqual(fake.violations, []);
  });

  /**
   * One delivery in the planning queue twice: the app was killed after sending it and before
   * recording its id, and GitHub's "Redeliver" sent it again (or SQS handed a message out
   * twice). Two planners (or two slots of one) take both copies at once. Found by
   * fleet-kill9.test.ts, where such a commit got two check runs for a hook.
   */
  it("sent twice and planned by two planners at once, it makes one check run and one job message per hook", async () => {
    const fullName = "acme/twice";
    const record = fake.addRepository({ fullName, installationId: 8 });
    const sha = randomBytes(20).toString("hex");
    fake.addCommit(fullName, sha, { ".github/kozmic.yml": CONFIG }, "main");
    const planQueue = openEmbeddedQueue({ dataDir: dir, name: "plans", kind: PLAN_MESSAGES });
    const lines: string[] = [];
    const log = (level: string) => (_fields: object, line: string) =>
      lines.push(`${level} ${line}`);
    const planner = (name: string) =>
      startPlanner({
        queue: planQueue,
        pollWaitSeconds: 0.2,
        visibilitySeconds: 3,
        retry: { baseSeconds: 1, maxSeconds: 2 },
        deps: {
          ...deps,
          log: {
            info: log(`${name} info`),
            warn: log(`${name} warn`),
            error: log(`${name} error`),
          },
        },
      });
    try {
      const message: PlanMessage = {
        version: 1,
        deliveryId: "delivery-twice",
        installationId: 8,
        repository: repositoryOf(record.id, fullName),
        task: { kind: "build", event: "push", sha, ref: "refs/heads/main", trigger: "octocat" },
      };
      await planQueue.sendBatch([message, message]);
      const planners = [planner("one"), planner("two")];
      // Both copies end as planned: the second finds the first's work done.
      for (let tries = 0; tries < 200; tries++) {
        if (lines.filter((l) => /info planned build /.test(l)).length >= 2) break;
        await sleep(100);
      }
      await Promise.all(planners.map((p) => p.stop()));

      const runs = fake.checkRunsOf(fullName, sha);
      assert.deepEqual(
        runs.map((r) => r.name).sort(),
        HOOKS,
        `one check run per hook; the planners said:\n${lines.join("\n")}`,
      );
      assert.ok(
        lines.some((l) => /is being planned by another copy of it; looking again in \d+ s/.test(l)),
        lines.join("\n"),
      );
      const messages = await queue.receive({ maxMessages: 10, visibilitySeconds: 60 });
      assert.deepEqual(
        messages.map((m) => (m.body.hook as { name: string }).name).sort(),
        HOOKS,
        "one job message per hook",
      );
      assert.deepEqual(fake.violations, []);
    } finally {
      await planQueue.close();
    }
  });
});
