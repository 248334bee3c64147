import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hooksYml, RunnerHarness } from "./runner-harness.js";

describe("runner end to end: webhook -> app -> queue -> runner -> Docker -> check run", () => {
  let h: RunnerHarness;
  before(async () => {
    h = await RunnerHarness.start();
    h.startRunner({ concurrency: 2 });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    await h.stop();
  });

  const jobOf = async (buildSha: string, repoId: number, hook = "test") => {
    const builds = await h.store.findBuildsByCommit(repoId, buildSha);
    const jobs = (await Promise.all(builds.map((b) => h.store.listJobs(b.id)))).flat();
    const job = jobs.find((j) => j.hook === hook);
    assert.ok(job, `a job for ${hook}`);
    return job;
  };

  it("success: the check run passes with a summary, the log is in the store", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "cat greeting.txt\ncat .git/HEAD" }),
      "greeting.txt": "hello from the repository\n",
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    assert.equal(run.output.title, "Passed");
    assert.match(run.output.summary ?? "", /\| build \|/);
    assert.match(run.output.summary ?? "", /Exit code: 0/);
    const job = await jobOf(sha, target.id);
    assert.match(run.output.summary ?? "", new RegExp(`https://kozmic.test/jobs/${job.id}`));
    assert.equal(job.status, "completed");
    assert.equal(job.conclusion, "success");
    assert.equal(job.exitCode, 0);
    assert.ok((job.durations?.total ?? 0) > 0);
    const log = await h.logOf(job.id);
    assert.match(log, /hello from the repository/);
    assert.ok(log.includes(sha), ".git is in the container at the exact commit");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1, "one conclusion");
    assert.ok(
      run.updates.some((u) => u.status === "in_progress"),
      "went in progress first",
    );
  });
});
