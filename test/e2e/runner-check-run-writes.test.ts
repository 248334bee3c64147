import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hooksYml, RunnerHarness } from "./runner-harness.js";

/**
 * GitHub paces an installation's writes, so a job's check run is updated no more than the
 * user needs: a short job reports once, a longer one goes in progress after the delay.
 */
describe("check-run updates: in progress only for a job that outlasts the delay", () => {
  let h: RunnerHarness;
  before(async () => {
    h = await RunnerHarness.start();
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  it("a job done within the delay: one update, straight to completed, with its start time", async () => {
    // A delay no quick job reaches, even on a loaded CI machine.
    const runner = h.startRunner({ concurrency: 2, inProgressDelayMs: 120_000 });
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo quick" }) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    assert.deepEqual(
      run.updates.map((u) => u.status),
      ["completed"],
      "no in-progress update for a job shorter than the delay",
    );
    const builds = await h.store.findBuildsByCommit(target.id, sha);
    const [job] = await h.store.listJobs(builds[0]!.id);
    assert.equal(run.updates[0]!.started_at, new Date(job!.startedAt!).toISOString());
    assert.equal(run.started_at, new Date(job!.startedAt!).toISOString());
    await runner.stop();
  });

  it("a job that outlasts the delay goes in progress, shows its phase, then completes", async () => {
    h.startRunner({ concurrency: 2, inProgressDelayMs: 500 });
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo started\nsleep 4\necho end" }),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    const statuses = run.updates.map((u) => u.status);
    assert.equal(statuses[0], "in_progress");
    assert.equal(statuses.at(-1), "completed");
    assert.equal(statuses.filter((s) => s === "completed").length, 1);
    assert.ok(
      run.updates.some(
        (u) => u.status === "in_progress" && /Building and testing/.test(JSON.stringify(u.output)),
      ),
      "the phase reached shows while it runs",
    );
  });
});
