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
    h.startRunner({ concurrency: 2, inProgressDelayMs: 1500 });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  it("a job done within the delay: one update, straight to completed, with its start time", async () => {
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
  });

  it("a job that outlasts the delay goes in progress, in the phase it reached, then completes", async () => {
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
    assert.match(JSON.stringify(run.updates[0]!.output), /Building and testing/);
  });
});
