import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { removeStepDirectories } from "../../runner/engine/step-mounts.js";
import { runnerWorkspaces } from "../../runner/source/step-workspaces.js";
import type { TargetRepository } from "../support/webhooks.js";
import {
  gatedBuild,
  linesOf,
  releaseBuilds,
  removeContainersOf,
  RUNNER_IMAGE,
  RunnerHarness,
} from "./runner-harness.js";

// Most of it is the SIGKILL case, which starts a runner as its own node process (tens of
// seconds on a loaded machine), lets test's build run until the kill, then waits out the
// dead runner's 6 s lease before another runner takes test over.

/** `test` (its build script given) and `deploy`, which needs it. */
function needsYml(testBuild: string): string {
  return [
    "hooks:",
    "  - name: test",
    `    image: ${RUNNER_IMAGE}`,
    "    build: |",
    ...testBuild.split("\n").map((line) => `      ${line}`),
    "  - name: deploy",
    `    image: ${RUNNER_IMAGE}`,
    "    needs: [test]",
    "    build: echo deploying",
    "",
  ].join("\n");
}

describe("needs: a hook that needs another, through the app, real runners and the fake GitHub", () => {
  let h: RunnerHarness;
  before(async () => {
    h = await RunnerHarness.start();
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, []);
    await h.stop();
  });

  const jobsOf = async (target: TargetRepository, sha: string) => {
    const [build] = await h.store.findBuildsByCommit(target.id, sha);
    const jobs = await h.store.listJobs(build!.id);
    return {
      test: jobs.find((job) => job.hook === "test")!,
      deploy: jobs.find((job) => job.hook === "deploy")!,
    };
  };

  /** The dependent's check run and job at planning: queued, saying what it waits for. */
  async function assertWaiting(target: TargetRepository, sha: string) {
    const run = h.checkRuns(target, sha).find((r) => r.name === "deploy");
    assert.equal(run?.status, "queued");
    assert.equal(run?.output.title, "Waiting for test");
    const { deploy } = await jobsOf(target, sha);
    assert.equal(deploy.status, "waiting");
    assert.equal(
      (await h.queue.receive({ maxMessages: 10, visibilitySeconds: 0 })).length,
      1,
      "only test's message is on the queue",
    );
  }

  it("deploy runs only after test passed", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": needsYml("echo testing") });
    await h.push(target, sha);
    await assertWaiting(target, sha);
    const runner = h.startRunner({ name: `needs-pass-${h.nonce}` });
    const run = await h.completed(target, sha, "deploy");
    assert.equal(run.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
    const { test, deploy } = await jobsOf(target, sha);
    assert.equal(test.conclusion, "success");
    assert.ok(deploy.startedAt! >= test.finishedAt!, "deploy started after test ended");
    assert.match(await h.logOf(deploy.id), /deploying/);
    await runner.stop();
  });

  it("deploy is skipped, saying why, when test failed", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": needsYml("echo testing\nexit 3") });
    await h.push(target, sha);
    await assertWaiting(target, sha);
    const runner = h.startRunner({ name: `needs-fail-${h.nonce}` });
    const run = await h.completed(target, sha, "deploy");
    assert.equal(run.conclusion, "skipped");
    assert.equal(run.output.title, "Skipped");
    assert.match(run.output.summary ?? "", /Skipped: test failed\./);
    const { test, deploy } = await jobsOf(target, sha);
    assert.equal(test.conclusion, "failure");
    assert.equal(deploy.conclusion, "skipped");
    assert.equal(deploy.message, "skipped: test failed");
    assert.equal(deploy.startedAt, undefined, "deploy never ran");
    assert.equal(await h.logOf(deploy.id), "");
    await runner.stop();
  });

  it("the runner running test is SIGKILLed mid-job: another ends test, and deploy is released once", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    const killed = `needs-killed-${h.nonce}`;
    const first = h.spawnRunner({
      name: killed,
      leaseMs: 6000,
      heartbeatMs: 1000,
    });
    const { git, target } = h.repository();
    // test's build waits to be released: the signal lands mid-build whatever the load.
    const sha = git.commit({ ".github/kozmic.yml": needsYml(gatedBuild()) });
    await h.push(target, sha);
    const { test } = await jobsOf(target, sha);
    await h.waitFor(
      "test to start in the first runner",
      async () => (linesOf(await h.logOf(test.id), "started") === 1 ? true : undefined),
      600_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    assert.equal((await jobsOf(target, sha)).deploy.status, "waiting");

    const other = h.startRunner({
      name: `needs-other-${h.nonce}`,
      leaseMs: 6000,
      heartbeatMs: 1000,
    });
    await h.waitFor("test to start again in the other runner", async () =>
      linesOf(await h.logOf(test.id), "started") === 2 ? true : undefined,
    );
    releaseBuilds(`needs-other-${h.nonce}`);
    const run = await h.completed(target, sha, "deploy", 180_000);
    assert.equal(run.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1, "one conclusion");
    const ended = await jobsOf(target, sha);
    assert.equal(ended.test.conclusion, "success");
    assert.equal((await h.logOf(test.id)).split("finished\n").length - 1, 1, "test finished once");
    const deployLog = await h.logOf(ended.deploy.id);
    assert.equal(deployLog.split("==> runner ").length - 1, 1, "deploy was picked up once");
    assert.equal(deployLog.split("deploying\n").length - 1, 1, "and ran once");
    assert.equal(ended.deploy.releasedBy, test.id);
    await other.stop();
    // The killed runner's build container (never released) and step mounts would outlive the test.
    removeContainersOf(killed);
    await removeStepDirectories(runnerWorkspaces(h.dir, killed));
  });
});
