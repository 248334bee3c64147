import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { assertHandled, AppHarness, newSha } from "../support/app-harness.js";
import { checkRunPayload, pushPayload } from "../support/webhooks.js";

const NEEDS_YML = [
  "hooks:",
  "  - name: test",
  "    image: alpine:3",
  "    build: make test",
  "  - name: deploy",
  "    image: alpine:3",
  "    build: make deploy",
  "    needs: [test]",
  "  - name: notify",
  "    image: alpine:3",
  "    build: make notify",
  "    needs: [deploy]",
  "",
].join("\n");

describe("needs through the app: waiting check runs, cancel and supersede", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start({ paceWrites: false });
  });
  after(() => h.stop());
  afterEach(() => {
    assert.deepEqual(h.fake.violations, [], "the app sent requests outside GitHub's API");
  });

  const runOf = (fullName: string, sha: string, name: string) =>
    h.fake.checkRunsOf(fullName, sha).find((r) => r.name === name)!;

  it("a push queues only the hooks that need none; the others' check runs say what they wait for", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": NEEDS_YML });
    assertHandled(await h.deliver("push", pushPayload(target, { sha })));
    const messages = await h.drain();
    assert.deepEqual(
      messages.map((m) => (m.hook as { name: string }).name),
      ["test"],
    );
    assert.equal(runOf(target.fullName, sha, "deploy").status, "queued");
    assert.equal(runOf(target.fullName, sha, "deploy").output.title, "Waiting for test");
    assert.equal(runOf(target.fullName, sha, "notify").output.title, "Waiting for deploy");
  });

  it("cancelling the job others wait for skips them, in turn, each check run saying why", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": NEEDS_YML });
    await h.deliver("push", pushPayload(target, { sha }));
    const [test] = await h.drain();
    assertHandled(
      await h.deliver(
        "check_run",
        checkRunPayload(target, {
          action: "requested_action",
          checkRunId: test!.checkRunId!,
          sha,
          externalId: test!.jobId,
          identifier: "cancel",
        }),
      ),
    );
    assert.equal(runOf(target.fullName, sha, "test").conclusion, "cancelled");
    const deploy = runOf(target.fullName, sha, "deploy");
    assert.equal(deploy.status, "completed");
    assert.equal(deploy.conclusion, "skipped");
    assert.match(deploy.output.summary!, /Skipped: test was cancelled\./);
    const notify = runOf(target.fullName, sha, "notify");
    assert.equal(notify.conclusion, "skipped");
    assert.match(notify.output.summary!, /Skipped: deploy was skipped\./);
    assert.deepEqual(await h.drain(), [], "nothing was sent for the skipped jobs");
  });

  it("a newer push ends the older commit's waiting jobs without ever sending them", async () => {
    const { target, sha: older } = h.repository({ ".github/kozmic.yml": NEEDS_YML });
    await h.deliver("push", pushPayload(target, { sha: older, branch: "main" }));
    assert.equal((await h.drain()).length, 1);
    const newer = newSha();
    h.fake.addCommit(target.fullName, newer, { ".github/kozmic.yml": NEEDS_YML }, "main");
    await h.deliver("push", pushPayload(target, { sha: newer, branch: "main", before: older }));
    const sent = await h.drain();
    assert.deepEqual(
      sent.map((m) => (m.hook as { name: string }).name),
      ["test"],
    );
    for (const name of ["test", "deploy", "notify"]) {
      const run = runOf(target.fullName, older, name);
      assert.equal(run.status, "completed", name);
      assert.ok(["cancelled", "skipped"].includes(run.conclusion!), `${name}: ${run.conclusion}`);
    }
    const [build] = await h.store.findBuildsByCommit(target.id, older);
    for (const job of await h.store.listJobs(build!.id)) {
      assert.equal(job.status, "completed", job.hook);
      assert.equal(job.enqueuedAt, undefined, `${job.hook} was never sent`);
    }
  });

  it("needs in a cycle fail the configuration check run, on the line of the need", async () => {
    const cycle = NEEDS_YML.replace(
      "    build: make test\n",
      "    build: make test\n    needs: [notify]\n",
    );
    const { target, sha } = h.repository({ ".github/kozmic.yml": cycle });
    await h.deliver("push", pushPayload(target, { sha }));
    const run = runOf(target.fullName, sha, "Kozmic configuration");
    assert.equal(run.conclusion, "failure");
    assert.match(run.output.summary ?? "", /kozmic\.yml:\d+:\d+: .*needs form a cycle/);
    assert.deepEqual(await h.drain(), []);
  });
});
