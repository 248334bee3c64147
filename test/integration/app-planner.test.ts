import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, afterEach, before, describe, it } from "node:test";
import { AppHarness, assertHandled, newSha } from "../support/app-harness.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** A configuration of `count` hooks named h0, h1, ... */
function hooks(count: number): string {
  const lines = ["hooks:"];
  for (let i = 0; i < count; i++) {
    lines.push(`  - name: h${i}`, "    image: alpine:3", `    build: echo ${i}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Posts a signed delivery and times the answer. */
async function timedDelivery(
  h: AppHarness,
  payload: Record<string, unknown>,
): Promise<{ status: number; body: string; ms: number; id: string }> {
  const delivery = signDelivery("push", payload, h.app.secret);
  const started = performance.now();
  const response = await postDelivery(h.app.webhookUrl, delivery);
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started, id: delivery.id };
}

describe("the webhook answers at once and the planner does GitHub's work (write pacing on)", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start();
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  it("10 pushes of 3 hooks on 10 branches at once: answered before the planner's work is done, 30 check runs, none twice", async () => {
    const { target } = h.repository();
    const shas = Array.from({ length: 10 }, (_, i) => {
      const sha = newSha();
      h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": hooks(3) }, `b${i}`);
      return sha;
    });
    const answers = await Promise.all(
      shas.map((sha, i) => timedDelivery(h, pushPayload(target, { sha, branch: `b${i}` }))),
    );
    // Paced writes take 20 s (past the burst of 10, one a second): answers that waited for
    // the planner's GitHub work would come after its last check run.
    const createdWhenAnswered = h.fake.checkRunsOf(target.fullName).length;
    for (const answer of answers) assertHandled(answer);
    assert.ok(
      createdWhenAnswered < 30,
      `answered only after all the check runs were created (slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms)`,
    );
    await h.eventually(
      "30 check runs",
      () => h.fake.checkRunsOf(target.fullName).length >= 30,
      400_000,
    );
    await h.app.idle();
    const runs = h.fake.checkRunsOf(target.fullName);
    assert.equal(runs.length, 30);
    for (const sha of shas) {
      const names = runs.filter((r) => r.head_sha === sha).map((r) => r.name);
      assert.deepEqual(names.sort(), ["h0", "h1", "h2"], `one run per hook on ${sha}`);
    }
    const messages = await h.drain();
    assert.equal(messages.length, 30);
    assert.equal(new Set(messages.map((m) => m.jobId)).size, 30, "a job message sent twice");
    assert.deepEqual(messages.map((m) => m.checkRunId).sort(), runs.map((r) => r.id).sort());
  });

  it("GitHub down (502) while 5 pushes arrive: all answered, all built once GitHub is back, no redelivery", async () => {
    const { target } = h.repository();
    const shas = Array.from({ length: 5 }, (_, i) => {
      const sha = newSha();
      h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": hooks(2) }, `down${i}`);
      return sha;
    });
    /** How often each delivery was tried and put back for a retry. */
    const retries = (id: string) =>
      h.app.logs.filter((l) => l.deliveryId === id && /trying again in \d+ s/.test(String(l.msg)))
        .length;
    // Down until every push has been tried and put back: as long as that takes, not a fixed 40 s.
    h.fake.failFor(60 * 60_000, 502);
    const answers = [];
    for (const [i, sha] of shas.entries()) {
      const answer = await timedDelivery(h, pushPayload(target, { sha, branch: `down${i}` }));
      answers.push(answer);
      // The next push arrives while this one waits for its retry behind the queue.
      await h.eventually(`push ${i} tried and put back`, () => retries(answer.id) >= 1);
    }
    for (const answer of answers) assertHandled(answer);
    // Each push tried again after its backoff, and put back again: retries go on while down.
    for (const answer of answers) {
      await h.eventually(`push ${answer.id} tried twice`, () => retries(answer.id) >= 2);
    }
    assert.deepEqual(h.fake.checkRunsOf(target.fullName), [], "GitHub was down");
    h.fake.clearFailures();
    await h.eventually(
      "every push's check runs",
      () => h.fake.checkRunsOf(target.fullName).length >= 10,
      300_000,
    );
    await h.app.idle();
    const runs = h.fake.checkRunsOf(target.fullName);
    assert.equal(runs.length, 10, "one check run per hook per push, none twice");
    for (const sha of shas) {
      assert.equal(runs.filter((r) => r.head_sha === sha).length, 2);
    }
    assert.equal((await h.drain()).length, 10);
  });
});

describe("a planner killed midway (SIGKILL)", () => {
  let h: AppHarness;
  const children: ChildProcess[] = [];
  before(async () => {
    h = await AppHarness.start({ planner: false });
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await h.stop();
  });

  function startPlannerChild(): Promise<ChildProcess> {
    // The planner's own process (not npx or a shell), so SIGKILL reaches it.
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/planner-child.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        KOZMIC_TEST_PLANNER: JSON.stringify({
          dataDir: h.dir,
          appId: h.fake.appId,
          privateKey: h.appKey.privateKeyPem,
          baseUrl: h.fake.url,
          publicUrl: "https://kozmic.test",
          visibilitySeconds: 3,
        }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) resolve(child);
      });
      child.on("exit", (code) => reject(new Error(`planner child exited ${code}: ${err}`)));
    });
  }

  it("leaves, after a restart, exactly one check run and one job per hook", async () => {
    const { target } = h.repository();
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": hooks(20) }, "main");
    const first = await startPlannerChild();
    assertHandled(await timedDelivery(h, pushPayload(target, { sha, branch: "main" })));
    // Past the burst of 10 writes the planner creates one check run a second: kill it there.
    await h.eventually(
      "12 of 20 check runs",
      () => h.fake.checkRunsOf(target.fullName, sha).length >= 12,
    );
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    const before = h.fake.checkRunsOf(target.fullName, sha).length;
    assert.ok(before < 20, `the planner finished (${before} runs) before it was killed`);

    const second = await startPlannerChild();
    await h.eventually(
      "all 20 check runs",
      () => h.fake.checkRunsOf(target.fullName, sha).length >= 20,
      120_000,
    );
    // Every job's check run id recorded: the last step of queueing it. SIGTERM then lets
    // the planner finish the message it is on.
    await h.eventually("every job queued", async () => {
      const builds = await h.store.findBuildsByCommit(target.id, sha);
      const jobs = builds[0] ? await h.store.listJobs(builds[0].id) : [];
      return jobs.length === 20 && jobs.every((j) => j.checkRunId !== undefined);
    });
    second.kill("SIGTERM");
    await new Promise((resolve) => second.once("exit", resolve));

    const runs = h.fake.checkRunsOf(target.fullName, sha);
    assert.equal(runs.length, 20);
    assert.equal(new Set(runs.map((r) => r.name)).size, 20, "a hook got two check runs");
    const [build, ...others] = await h.store.findBuildsByCommit(target.id, sha);
    assert.deepEqual(others, []);
    const jobs = await h.store.listJobs(build!.id);
    assert.equal(jobs.length, 20);
    for (const job of jobs) {
      assert.equal(job.status, "queued");
      assert.equal(job.checkRunId, runs.find((r) => r.external_id === job.id)?.id);
    }
    const messages = await h.drain();
    // A message for every job and for no other. The planner sends a job's message, then
    // records its check run id: killed between the two, it sends that one job's message
    // again on its next try (recorded first, a kill would lose the job instead). A runner
    // claims a job once, whatever its messages (the fleet tests count it).
    const ids = messages.map((m) => m.jobId);
    assert.deepEqual([...new Set(ids)].sort(), jobs.map((j) => j.id).sort(), "a message per job");
    assert.ok(ids.length - new Set(ids).size <= 1, `${ids.length} messages for 20 jobs`);
  });
});
