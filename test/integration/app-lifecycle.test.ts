import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { assertHandled, AppHarness, HOOKS_YML, newSha } from "../support/app-harness.js";
import {
  checkRunPayload,
  checkSuitePayload,
  installationPayload,
  installationRepositoriesPayload,
  pullRequestPayload,
  postDelivery,
  pushPayload,
  signDelivery,
} from "../support/webhooks.js";

describe("the app over HTTP: re-runs, cancel, superseding, installations", () => {
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

  it("Re-run of one check run plans that hook again with the original trust", async () => {
    const { target } = h.repository();
    const sha = newSha();
    h.fake.addCommit(target.fullName, sha, { ".github/kozmic.yml": HOOKS_YML });
    const fork = { fullName: "mallory/fork", id: 999_002 };
    await h.deliver(
      "pull_request",
      pullRequestPayload(target, { action: "opened", number: 11, sha, fork }),
    );
    const [first] = (await h.drain()).filter((m) => (m.hook as { name: string }).name === "test");
    assert.ok(first?.checkRunId);

    const payload = checkRunPayload(target, {
      action: "rerequested",
      checkRunId: first.checkRunId,
      sha,
      name: "test",
      externalId: first.jobId,
    });
    const res = await h.deliver("check_run", payload, { id: "rerun-1" });
    assertHandled(res);
    await h.deliver("check_run", payload, { id: "rerun-1" });

    const messages = await h.drain();
    assert.equal(messages.length, 1, "one re-run, even when the delivery came twice");
    const rerun = messages[0]!;
    assert.equal(rerun.event, "rerun");
    assert.equal(rerun.trust, "untrusted");
    assert.equal(rerun.headRepositoryId, 999_002, "the re-run shares its fork's installs");
    assert.equal(rerun.pullRequest, 11);
    assert.equal(rerun.ref, "refs/pull/11/head");
    assert.equal((rerun.hook as { name: string }).name, "test");
    assert.notEqual(rerun.jobId, first.jobId);
    const runs = h.fake.checkRunsOf(target.fullName, sha).filter((r) => r.name === "test");
    assert.equal(runs.length, 2);
    const fresh = runs.find((r) => r.external_id === rerun.jobId);
    assert.equal(fresh?.status, "queued");
    const build = await h.store.getBuild(rerun.buildId);
    assert.equal(build?.trigger, `rerun by ${String((payload.sender as { login: string }).login)}`);
  });

  it("Re-run all checks plans every hook again; so does re-running the configuration check", async () => {
    const { target, sha } = h.repository();
    await h.deliver("push", pushPayload(target, { sha }));
    assert.equal((await h.drain()).length, 2);

    const res = await h.deliver(
      "check_suite",
      checkSuitePayload(target, { action: "rerequested", sha }),
    );
    assertHandled(res);
    const again = await h.drain();
    assert.deepEqual(again.map((m) => (m.hook as { name: string }).name).sort(), ["lint", "test"]);
    for (const m of again) {
      assert.equal(m.event, "rerun");
      assert.equal(m.trust, "trusted");
    }
    assert.equal(h.fake.checkRunsOf(target.fullName, sha).length, 4);

    // A re-run replaces the queued jobs of the same commit.
    const firstJobs = (await h.store.findBuildsByCommit(target.id, sha))[0]!;
    for (const job of await h.store.listJobs(firstJobs.id)) {
      assert.equal(job.conclusion, "cancelled", `${job.hook} was left queued beside its re-run`);
    }

    const configRun = checkRunPayload(target, {
      action: "rerequested",
      checkRunId: 1,
      sha,
      name: "Kozmic configuration",
    });
    await h.deliver("check_run", configRun);
    assert.equal((await h.drain()).length, 2);
  });

  it("the Cancel button cancels a queued job at once and flags a running one", async () => {
    const { target, sha } = h.repository();
    await h.deliver("push", pushPayload(target, { sha }));
    const [queued, running] = await h.drain();
    assert.ok(queued && running);
    await h.store.claimJob(running.jobId, "runner-1", 60_000);

    for (const message of [queued, running]) {
      const res = await h.deliver(
        "check_run",
        checkRunPayload(target, {
          action: "requested_action",
          checkRunId: message.checkRunId!,
          sha,
          externalId: message.jobId,
          identifier: "cancel",
        }),
      );
      assertHandled(res);
    }
    const cancelled = await h.store.getJob(queued.jobId);
    assert.equal(cancelled?.status, "completed");
    assert.equal(cancelled?.conclusion, "cancelled");
    const run = h.fake.checkRuns.find((r) => r.id === queued.checkRunId)!;
    assert.equal(run.status, "completed");
    assert.equal(run.conclusion, "cancelled");
    assert.match(run.output.summary!, /Cancelled by/);

    const flagged = await h.store.getJob(running.jobId);
    assert.equal(flagged?.status, "running");
    assert.equal(flagged?.cancelRequested, true);
    assert.equal(h.fake.checkRuns.find((r) => r.id === running.checkRunId)?.status, "queued");
  });

  it("an unknown action or a check run without a job changes nothing", async () => {
    const { target, sha } = h.repository();
    await h.deliver("push", pushPayload(target, { sha }));
    const [message] = await h.drain();
    const other = checkRunPayload(target, {
      action: "requested_action",
      checkRunId: message!.checkRunId!,
      sha,
      externalId: message!.jobId,
      identifier: "deploy",
    });
    const stranger = checkRunPayload(target, {
      action: "requested_action",
      checkRunId: 5,
      sha,
      externalId: "no-such-job",
    });
    assertHandled(await h.deliver("check_run", other));
    assertHandled(await h.deliver("check_run", stranger));
    assert.equal((await h.store.getJob(message!.jobId))?.status, "queued");
    assert.equal((await h.store.getJob(message!.jobId))?.cancelRequested, undefined);
  });

  it("a newer commit on the branch supersedes the older one's queued and running jobs", async () => {
    const { target, sha: older } = h.repository();
    await h.deliver("push", pushPayload(target, { sha: older, branch: "main" }));
    const [queued, running] = await h.drain();
    await h.store.claimJob(running!.jobId, "runner-1", 60_000);

    const newer = newSha();
    h.fake.addCommit(target.fullName, newer, { ".github/kozmic.yml": HOOKS_YML }, "main");
    await h.deliver("push", pushPayload(target, { sha: newer, branch: "main", before: older }));
    assert.equal((await h.drain()).length, 2);

    const done = await h.store.getJob(queued!.jobId);
    assert.equal(done?.conclusion, "cancelled");
    const run = h.fake.checkRuns.find((r) => r.id === queued!.checkRunId)!;
    assert.equal(run.conclusion, "cancelled");
    assert.ok(
      run.output.summary!.includes(`Superseded by ${newer.slice(0, 7)}`),
      run.output.summary!,
    );
    assert.match(run.output.summary!, /branch main/);
    assert.equal((await h.store.getJob(running!.jobId))?.cancelRequested, true);
    for (const r of h.fake.checkRunsOf(target.fullName, newer)) assert.equal(r.status, "queued");
  });

  it("hooks with cancel_superseded: false keep their older jobs; other branches are untouched", async () => {
    const yml = HOOKS_YML.replace(
      "    build: npm test\n",
      "    build: npm test\n    cancel_superseded: false\n",
    );
    const { target, sha: older } = h.repository({ ".github/kozmic.yml": yml });
    await h.deliver("push", pushPayload(target, { sha: older, branch: "main" }));
    const olderJobs = await h.drain();

    const other = newSha();
    h.fake.addCommit(target.fullName, other, { ".github/kozmic.yml": yml }, "topic");
    await h.deliver("push", pushPayload(target, { sha: other, branch: "topic" }));
    await h.drain();
    for (const m of olderJobs) assert.equal((await h.store.getJob(m.jobId))?.status, "queued");

    const newer = newSha();
    h.fake.addCommit(target.fullName, newer, { ".github/kozmic.yml": yml }, "main");
    await h.deliver("push", pushPayload(target, { sha: newer, branch: "main" }));
    await h.drain();
    const byHook = new Map(olderJobs.map((m) => [(m.hook as { name: string }).name, m.jobId]));
    assert.equal((await h.store.getJob(byHook.get("test")!))?.status, "queued");
    assert.equal((await h.store.getJob(byHook.get("lint")!))?.conclusion, "cancelled");
  });

  it("re-running an old commit leaves the newer commit's jobs alone", async () => {
    const { target, sha: older } = h.repository();
    await h.deliver("push", pushPayload(target, { sha: older }));
    const [old] = await h.drain();
    const newer = newSha();
    h.fake.addCommit(target.fullName, newer, { ".github/kozmic.yml": HOOKS_YML }, "main");
    await h.deliver("push", pushPayload(target, { sha: newer }));
    const current = await h.drain();

    await h.deliver(
      "check_run",
      checkRunPayload(target, {
        action: "rerequested",
        checkRunId: old!.checkRunId!,
        sha: older,
        externalId: old!.jobId,
      }),
    );
    const [rerun] = await h.drain();
    assert.equal(rerun?.sha, older);
    for (const m of current) assert.equal((await h.store.getJob(m.jobId))?.status, "queued");
  });

  it("a pull request's next commit supersedes the one its branch push built", async () => {
    const { target } = h.repository();
    const first = newSha();
    h.fake.addCommit(target.fullName, first, { ".github/kozmic.yml": HOOKS_YML }, "feature");
    await h.deliver("push", pushPayload(target, { sha: first, branch: "feature" }));
    const firstJobs = await h.drain();

    const second = newSha();
    h.fake.addCommit(target.fullName, second, { ".github/kozmic.yml": HOOKS_YML }, "feature");
    await h.deliver(
      "pull_request",
      pullRequestPayload(target, {
        action: "synchronize",
        number: 21,
        sha: second,
        headRef: "feature",
      }),
    );
    await h.deliver("push", pushPayload(target, { sha: second, branch: "feature" }));
    assert.equal((await h.drain()).length, 2);
    for (const m of firstJobs) {
      assert.equal((await h.store.getJob(m.jobId))?.conclusion, "cancelled");
    }
  });

  it("installation events keep the store's record of installations and repositories", async () => {
    const a = { fullName: "octo/a", id: 501, installationId: 900 };
    const b = { fullName: "octo/b", id: 502, installationId: 900, private: true };
    const created = await h.deliver(
      "installation",
      installationPayload("created", 900, "octo", [a]),
    );
    assertHandled(created);
    let record = await h.store.getInstallation(900);
    assert.equal(record?.account, "octo");
    assert.deepEqual(record?.repositories, [{ id: 501, fullName: "octo/a", private: false }]);

    await h.deliver(
      "installation_repositories",
      installationRepositoriesPayload("added", 900, "octo", [b]),
    );
    await h.deliver(
      "installation_repositories",
      installationRepositoriesPayload("removed", 900, "octo", [a]),
    );
    record = await h.store.getInstallation(900);
    assert.deepEqual(record?.repositories, [{ id: 502, fullName: "octo/b", private: true }]);

    const deleted = await h.deliver(
      "installation",
      installationPayload("deleted", 900, "octo", []),
    );
    assertHandled(deleted);
    assert.equal(await h.store.getInstallation(900), undefined);
  });
});

describe("the app's server stopping", () => {
  it("waits for the planning under way, so a push GitHub made wait still gets its check runs and messages", async () => {
    const h = await AppHarness.start();
    try {
      const { target, sha } = h.repository();
      // GitHub asks the planner to wait 12 s (a secondary rate limit).
      h.fake.rateLimitNext(1, 12_000);
      const delivery = signDelivery("push", pushPayload(target, { sha }), h.app.secret);
      const res = await postDelivery(h.app.webhookUrl, delivery);
      assert.equal(res.status, 202, "answered before any GitHub work");
      assert.deepEqual(h.fake.checkRunsOf(target.fullName, sha), []);
      await h.eventually("the planner to meet the rate limit", () =>
        h.fake.requests.some((r) => r.status === 403),
      );
      await h.app.stop();
      const runs = h.fake.checkRunsOf(target.fullName, sha);
      assert.deepEqual(runs.map((r) => r.name).sort(), ["lint", "test"]);
      const messages = await h.drain();
      assert.deepEqual(
        messages.map((m) => m.checkRunId).sort(),
        runs.map((r) => r.id).sort(),
        "one message per check run, sent before the server stopped",
      );
    } finally {
      await h.stop();
    }
  });
});
