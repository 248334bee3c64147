import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { AppHarness, HOOKS_YML, newSha } from "../support/app-harness.js";
import { pullRequestPayload, pushPayload } from "../support/webhooks.js";

describe("the app over HTTP: pushes and pull requests become check runs and messages", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start();
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  it("a push to a branch queues one check run and one message per hook", async () => {
    const { target, sha } = h.repository();
    const res = await h.deliver("push", pushPayload(target, { sha, branch: "main" }));
    assert.equal(res.status, 200, res.body);

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
    assert.equal(res.status, 200, res.body);
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
      assert.equal(res.status, 200, res.body);
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
    assert.equal(res.status, 200, res.body);
    const forkMessages = await h.drain();
    assert.equal(forkMessages.length, 2);
    for (const m of forkMessages) {
      assert.equal(m.trust, "untrusted");
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
});
