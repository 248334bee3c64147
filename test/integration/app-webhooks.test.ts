import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { assertHandled, AppHarness, HOOKS_YML, newSha } from "../support/app-harness.js";
import { pullRequestPayload, pushPayload } from "../support/webhooks.js";
import { enqueuePlan } from "../../src/github/app-deps.js";

describe("the app over HTTP: pushes and pull requests become check runs and messages", () => {
  let h: AppHarness;
  before(async () => {
    // Write pacing off: no test here is about it (write-pacing.test.ts and app-planner.test.ts
    // are), and with it on, the tests' writes drain the installation's burst and then wait a
    // second each.
    h = await AppHarness.start({ paceWrites: false });
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  it("a push to a branch queues one check run and one message per hook", async () => {
    const { target, sha } = h.repository();
    const res = await h.deliver("push", pushPayload(target, { sha, branch: "main" }));
    assertHandled(res);

    const runs = h.fake.checkRunsOf(target.fullName, sha);
    assert.deepEqual(runs.map((r) => r.name).sort(), ["lint", "test"]);
    const messages = await h.drain();
    assert.equal(messages.length, 2);
    for (const run of runs) {
      assert.equal(run.status, "queued");
      const message = messages.find((m) => m.jobId === run.external_id);
      assert.ok(message, `no message for check run ${run.name}`);
      assert.equal(run.details_url, `https://kozmic.test/jobs/${message.jobId}`);
      assert.equal(message.checkRunId, run.id);
      assert.equal(message.sha, sha);
      assert.equal(message.ref, "refs/heads/main");
      assert.equal(message.event, "push");
      assert.equal(message.trust, "trusted");
      assert.equal(message.installationId, 77);
      assert.equal(message.repository.fullName, target.fullName);
      const job = await h.store.getJob(message.jobId);
      assert.equal(job?.status, "queued");
      assert.equal(job?.checkRunId, run.id);
    }
  });

  it("a repository without .github/kozmic.yml gets no check runs", async () => {
    const { target, sha } = h.repository({ "README.md": "hello" });
    const res = await h.deliver("push", pushPayload(target, { sha }));
    assertHandled(res);
    assert.deepEqual(h.fake.checkRunsOf(target.fullName), []);
    assert.deepEqual(await h.drain(), []);
  });

  it("reads the configuration at the pushed commit, not at the default branch", async () => {
    const { target } = h.repository({ "README.md": "no hooks on main" });
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": HOOKS_YML }, "feature");
    await h.deliver("push", pushPayload(target, { sha, branch: "feature" }));
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.drain()).length, 2);
  });

  it("tag pushes, branch deletions and [skip ci] commits build nothing", async () => {
    const { target, sha } = h.repository();
    for (const payload of [
      pushPayload(target, { sha, tag: "v1.0.0" }),
      pushPayload(target, { sha, branch: "old", deleted: true }),
      pushPayload(target, { sha, message: "Fix typo [skip ci]" }),
      pushPayload(target, { sha, message: "Docs\n\n[CI SKIP]" }),
    ]) {
      const res = await h.deliver("push", payload);
      assertHandled(res);
    }
    assert.deepEqual(h.fake.checkRunsOf(target.fullName), []);
    assert.deepEqual(await h.drain(), []);
  });

  it("a pull request from a fork is planned untrusted; one from a branch trusted", async () => {
    const { target } = h.repository();
    const forkSha = newSha();
    h.fake.addCommit(target.fullName, forkSha, { ".github/kozmic.yml": HOOKS_YML });
    const fork = { fullName: "mallory/repo-fork", id: 999_001 };
    const res = await h.deliver(
      "pull_request",
      pullRequestPayload(target, { action: "opened", number: 7, sha: forkSha, fork }),
    );
    assertHandled(res);
    const forkMessages = await h.drain();
    assert.equal(forkMessages.length, 2);
    for (const m of forkMessages) {
      assert.equal(m.trust, "untrusted");
      assert.equal(m.headRepositoryId, 999_001, "its installs are the fork's own");
      assert.equal(m.event, "pull_request");
      assert.equal(m.pullRequest, 7);
      assert.equal(m.ref, "refs/pull/7/head");
    }

    const branchSha = newSha();
    h.fake.addCommit(target.fullName, branchSha, { ".github/kozmic.yml": HOOKS_YML });
    await h.deliver(
      "pull_request",
      pullRequestPayload(target, { action: "synchronize", number: 8, sha: branchSha }),
    );
    const branchMessages = await h.drain();
    assert.deepEqual(
      branchMessages.map((m) => m.trust),
      ["trusted", "trusted"],
    );
  });

  it("an invalid configuration gives one failed check run with annotations on its lines", async () => {
    const yml = [
      "hooks:",
      "  - name: test",
      "    image: alpine:3",
      "    build: npm test",
      "    timeout: soon",
      "  - name: test",
      "    image: alpine:3",
      "    bild: typo",
      "",
    ].join("\n");
    const { target, sha } = h.repository({ ".github/kozmic.yml": yml });
    const res = await h.deliver("push", pushPayload(target, { sha }));
    assertHandled(res);

    const runs = h.fake.checkRunsOf(target.fullName, sha);
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.name, "Kozmic configuration");
    assert.equal(run.status, "completed");
    assert.equal(run.conclusion, "failure");
    assert.match(run.output.summary!, /no jobs ran/);
    const lines = run.annotations.map((a) => a.start_line).sort((a, b) => a - b);
    assert.deepEqual(lines, [5, 6, 6, 8]);
    const typo = run.annotations.find((a) => a.start_line === 8);
    assert.match(typo!.message, /unknown key "bild" — did you mean "build"/);
    assert.equal(typo!.start_column, 5);
    for (const a of run.annotations) assert.equal(a.path, ".github/kozmic.yml");
    assert.deepEqual(await h.drain(), []);
  });

  it("a hook naming Kozmic's cache or an image ID gets a failed Kozmic configuration run on its line", async () => {
    const yml = [
      "hooks:",
      "  - name: steal",
      "    image: kozmic-cache/12345:" + "a".repeat(64),
      "    build: cat /opt/secrets",
      "  - name: by-id",
      "    image: sha256:" + "9b".repeat(32),
      "    build: true",
      "",
    ].join("\n");
    const { target, sha } = h.repository({ ".github/kozmic.yml": yml });
    await h.deliver("push", pushPayload(target, { sha }));
    const [run, ...more] = h.fake.checkRunsOf(target.fullName, sha);
    assert.deepEqual(more, []);
    assert.equal(run?.name, "Kozmic configuration");
    assert.equal(run?.conclusion, "failure");
    const byLine = new Map(run!.annotations.map((a) => [a.start_line, a.message]));
    assert.match(byLine.get(3) ?? "", /holds Kozmic's install cache, which only Kozmic writes/);
    assert.match(byLine.get(6) ?? "", /not an image ID/);
    assert.deepEqual(await h.drain(), [], "no job was queued");
  });

  it("annotates a configuration with more than 50 problems over several requests", async () => {
    const hooks = Array.from({ length: 30 }, (_, i) =>
      [
        `  - name: h${i}`,
        "    image: alpine:3",
        "    build: make",
        "    cpus: lots",
        "    memory: lots",
      ].join("\n"),
    );
    const { target, sha } = h.repository({ ".github/kozmic.yml": `hooks:\n${hooks.join("\n")}\n` });
    await h.deliver("push", pushPayload(target, { sha }));
    const [run] = h.fake.checkRunsOf(target.fullName, sha);
    assert.equal(run?.annotations.length, 60);
    assert.match(run!.output.title!, /60 configuration errors/);
  });

  it("the same delivery twice and a push plus a pull request of one commit build once", async () => {
    const { target, sha } = h.repository();
    const push = pushPayload(target, { sha, branch: "feature" });
    const first = await h.deliver("push", push, { id: "delivery-dup-1" });
    const again = await h.deliver("push", push, { id: "delivery-dup-1" });
    assertHandled(first);
    assertHandled(again);
    const pr = pullRequestPayload(target, { action: "opened", number: 3, sha, headRef: "feature" });
    await h.deliver("pull_request", pr);
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.drain()).length, 2);
    assert.equal((await h.store.findBuildsByCommit(target.id, sha)).length, 1);
  });

  it("an app killed while sending a delivery's planning message has recorded nothing that refuses GitHub's redelivery", async () => {
    const { target, sha } = h.repository();
    const push = pushPayload(target, { sha, branch: "main" });
    const id = "delivery-killed-while-sending";
    // The send never answers: what the store holds meanwhile is all a killed app leaves.
    const killedWhileSending = { ...h.planQueue, send: () => new Promise<never>(() => {}) };
    void enqueuePlan(
      { store: h.store, planQueue: killedWhileSending, now: Date.now, newId: randomUUID },
      id,
      {
        installationId: 77,
        repository: { id: target.id, fullName: target.fullName, private: false },
        task: { kind: "build", event: "push", sha, ref: "refs/heads/main", trigger: "test" },
      },
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      await h.store.hasDelivery(id),
      false,
      "the delivery was recorded before it was sent",
    );
    // GitHub's "Redeliver": the same id, planned now.
    assertHandled(await h.deliver("push", push, { id }));
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.drain()).length, 2);
    assert.equal(await h.store.hasDelivery(id), true);
  });

  it("a delivery planned but not recorded (the app killed between the two) is planned once when it comes again", async () => {
    const { target, sha } = h.repository();
    const push = pushPayload(target, { sha, branch: "main" });
    const first = await h.deliver("push", push, { id: "delivery-sent-not-recorded" });
    assertHandled(first);
    const jobs = (await h.drain()).map((m) => m.jobId).sort();
    await h.store.forgetDelivery(first.id);
    assertHandled(await h.deliver("push", push, { id: first.id }));
    // The same build and check runs; at most its queued jobs' messages again (each job
    // runs once whatever its messages: a runner claims it first).
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.store.findBuildsByCommit(target.id, sha)).length, 1);
    for (const message of await h.drain()) assert.ok(jobs.includes(message.jobId), message.jobId);
  });

  it("a push and a pull request for one commit arriving together build once", async () => {
    const { target, sha } = h.repository();
    await Promise.all([
      h.deliver("push", pushPayload(target, { sha, branch: "feature" })),
      h.deliver(
        "pull_request",
        pullRequestPayload(target, { action: "synchronize", number: 4, sha, headRef: "feature" }),
      ),
    ]);
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.drain()).length, 2);
  });

  it("a delivery with a bad signature is refused with 401 and changes nothing", async () => {
    const { target, sha } = h.repository();
    const res = await h.deliver("push", pushPayload(target, { sha }), { secret: "not-the-secret" });
    assert.equal(res.status, 401, res.body);
    assert.match(res.body, /signature/i);
    assert.deepEqual(h.fake.checkRunsOf(target.fullName), []);
    assert.deepEqual(await h.drain(), []);
    assert.deepEqual(await h.store.findBuildsByCommit(target.id, sha), []);
  });

  it("a signed but malformed delivery is refused with 400 naming the bad fields", async () => {
    const { target, sha } = h.repository();
    const { repository: _gone, ...payload } = pushPayload(target, { sha });
    const res = await h.deliver("push", { ...payload, after: "not-a-sha" });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /MalformedPayloadError: the push payload is malformed/);
    assert.match(res.body, /after: expected a 40-character commit sha/);
    assert.match(res.body, /repository: /);
    assert.deepEqual(h.fake.checkRunsOf(target.fullName), []);
    assert.deepEqual(await h.drain(), []);
  });

  it("a configuration too large to read is reported, not fetched into a job", async () => {
    const huge = HOOKS_YML + "# padding\n".repeat(30_000);
    const { target, sha } = h.repository({ ".github/kozmic.yml": huge });
    await h.deliver("push", pushPayload(target, { sha }));
    const [run] = h.fake.checkRunsOf(target.fullName, sha);
    assert.equal(run?.name, "Kozmic configuration");
    assert.equal(run?.conclusion, "failure");
    assert.match(run!.output.summary!, /at most 262144 are read/);
    assert.deepEqual(await h.drain(), []);
  });

  it("GitHub 502s and a secondary rate limit are retried and the build still lands", async () => {
    const { target, sha } = h.repository();
    h.fake.failNext(2, 502);
    h.fake.rateLimitNext(1, 1);
    const res = await h.deliver("push", pushPayload(target, { sha }));
    assertHandled(res);
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await h.drain()).length, 2);
    const answered = h.fake.requests.filter((r) => r.status === 502 || r.status === 403);
    assert.ok(answered.length >= 3, "the injected failures were never hit");
  });

  it("when creating check runs fails for a while, the planner tries again and the build lands once, without redelivery", async () => {
    const { target, sha } = h.repository();
    h.fake.failNext(12, 502, { method: "POST", path: /\/check-runs$/ });
    const res = await h.deliver("push", pushPayload(target, { sha }), { id: "runs-down-1" });
    assertHandled(res);
    const runs = await h.eventually("both check runs", () => {
      const runs = h.fake.checkRunsOf(target.fullName, sha);
      return runs.length === 2 && runs;
    });
    await h.app.idle();
    assert.deepEqual(
      runs.map((r) => r.status),
      ["queued", "queued"],
    );
    const messages = await h.drain();
    assert.deepEqual(messages.map((m) => m.checkRunId).sort(), runs.map((r) => r.id).sort());
    const retried = h.app.logs.filter(
      (l) => l.deliveryId === "runs-down-1" && /trying again in \d+ s/.test(String(l.msg)),
    );
    assert.ok(retried.length >= 1, "no log line says the planner will try again");
    // A redelivery of a handled delivery builds nothing more.
    await h.deliver("push", pushPayload(target, { sha }), { id: "runs-down-1" });
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.deepEqual(await h.drain(), []);
  });

  it("a configuration error GitHub could not be told of at first is reported once it can be", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": "hooks:\n  - name: test\n" });
    h.fake.failNext(8, 502, { method: "POST", path: /\/check-runs$/ });
    assertHandled(await h.deliver("push", pushPayload(target, { sha }), { id: "config-down-1" }));
    await h.eventually(
      "the configuration check run",
      () => h.fake.checkRunsOf(target.fullName, sha).length > 0,
    );
    await h.app.idle();
    const runs = h.fake.checkRunsOf(target.fullName, sha);
    assert.deepEqual(
      runs.map((r) => [r.name, r.conclusion]),
      [["Kozmic configuration", "failure"]],
    );
    assert.deepEqual(await h.drain(), []);
  });

  it("a delivery for an installation GitHub no longer knows is dropped with one log line", async () => {
    const { target, sha } = h.repository();
    const gone = { ...target, installationId: 9999 };
    const res = await h.deliver("push", pushPayload(gone, { sha }), { id: "uninstalled-1" });
    assertHandled(res);
    await h.eventually("the planner's verdict", () =>
      h.app.logs.find((l) => l.deliveryId === "uninstalled-1" && /dropped/.test(String(l.msg))),
    );
    assert.deepEqual(h.fake.checkRunsOf(target.fullName, sha), []);
    assert.deepEqual(await h.drain(), []);
    assert.deepEqual(await h.planQueue.receive({ maxMessages: 10 }), []);
  });
});
