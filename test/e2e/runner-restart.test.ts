import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gatedBuild, hooksYml, linesOf, releaseBuilds, RunnerHarness } from "./runner-harness.js";
import { runnerWorkspaces } from "../../runner/source/step-workspaces.js";

const containersOf = (runnerName: string) =>
  execFileSync("docker", ["ps", "-aq", "--filter", `label=kozmic.runner=${runnerName}`], {
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);

describe("runner restarts, crashes and shutdown", () => {
  let h: RunnerHarness;
  before(async () => {
    h = await RunnerHarness.start();
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, []);
    await h.stop();
  });

  const onlyJob = async (sha: string, repoId: number) => {
    const [build] = await h.store.findBuildsByCommit(repoId, sha);
    const [job] = await h.store.listJobs(build!.id);
    return job!;
  };

  it("a job cancelled while queued never starts", async () => {
    const { git, target } = h.repository();
    const config = hooksYml({ build: "echo should-not-run" });
    const sha = git.commit({ ".github/kozmic.yml": config });
    const { jobIds } = await h.planPush(target, sha, config);
    await h.store.requestCancel(jobIds[0]!, "superseded by a newer push");
    const runner = h.startRunner({ name: `late-${h.nonce}` });
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "cancelled");
    assert.match(run.output.summary ?? "", /superseded by a newer push/);
    const log = await h.logOf(jobIds[0]!);
    assert.match(log, /cancelled before it started/);
    assert.ok(!log.includes("should-not-run"));
    assert.ok(!run.updates.some((u) => u.status === "in_progress"), "never went in progress");
    await runner.stop();
  });

  it("a runner SIGKILLed mid-build: after its restart the job completes exactly once", async () => {
    const name = `crashy-${h.nonce}`;
    const first = h.spawnRunner({ name, leaseMs: 6000, heartbeatMs: 1000 });
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: gatedBuild() }) });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor("the build to start in the first runner", async () =>
      linesOf(await h.logOf(job.id), "started") === 1 ? true : undefined,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    const orphans = containersOf(name);
    assert.ok(orphans.length > 0, "the killed runner left its build container");
    // The step's /kozmic: a bind-mounted directory on this root runner's local engine.
    const workspaces = runnerWorkspaces(h.dir, name);
    const orphanWorkspaces = readdirSync(workspaces);
    assert.ok(orphanWorkspaces.length > 0, "and its workspace directory");

    // The same runner comes back: it removes its leftovers and takes the job over.
    h.startRunner({ name, leaseMs: 6000, heartbeatMs: 1000 });
    await h.waitFor("the build to start again", async () =>
      linesOf(await h.logOf(job.id), "started") === 2 ? true : undefined,
    );
    releaseBuilds(name);
    const run = await h.completed(target, sha, "test", 180_000);
    assert.equal(run.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1, "one conclusion");
    const stillThere = containersOf(name).filter((id) => orphans.includes(id));
    assert.deepEqual(stillThere, [], "leftover containers removed at start");
    const left = existsSync(workspaces) ? readdirSync(workspaces) : [];
    assert.deepEqual(
      left.filter((w) => orphanWorkspaces.includes(w)),
      [],
      "and their workspace directories",
    );
    assert.ok(h.runnerLog.some((l) => l.includes("removed containers of a previous life")));
    // The job's own checkout goes in its `finally`, just after the message is deleted.
    await h.waitFor("the checkouts of the runner to be gone", () =>
      readdirSync(join(h.dir, "checkouts", name)).length === 0 ? true : undefined,
    );
    const done = await h.store.getJob(job.id);
    assert.equal(done?.status, "completed");
    assert.equal(done?.conclusion, "success");
    const log = await h.logOf(job.id);
    assert.equal(log.split("finished\n").length - 1, 1, "the build finished once");
    assert.match(log, /attempt 2 of 5|attempt 3 of 5/);
  });

  it("a runner frozen past its lease (SIGSTOP) neither reports nor writes the log once it wakes", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    const frozen = h.spawnRunner({ name: `frozen-${h.nonce}`, leaseMs: 6000, heartbeatMs: 1000 });
    await h.waitFor(
      "the child runner",
      () => (frozen.lines.includes("child ready") ? true : undefined),
      // A new node process loading the runner: minutes on a loaded machine.
      600_000,
    );
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: gatedBuild() }) });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor("the build to start in the first runner", async () =>
      linesOf(await h.logOf(job.id), "started") === 1 ? true : undefined,
    );
    frozen.child.kill("SIGSTOP");
    const other = h.startRunner({ name: `thawed-${h.nonce}`, leaseMs: 6000, heartbeatMs: 1000 });
    await h.waitFor("the build to start in the other runner", async () =>
      linesOf(await h.logOf(job.id), "started") === 2 ? true : undefined,
    );
    // The frozen runner's build finishes while its runner sleeps: what it printed waits for
    // the runner to wake up.
    const frozenBuilds = containersOf(`frozen-${h.nonce}`);
    assert.ok(frozenBuilds.length > 0, "the frozen runner's build is still there");
    releaseBuilds(`frozen-${h.nonce}`);
    execFileSync("docker", ["wait", ...frozenBuilds], { stdio: "ignore", timeout: 120_000 });
    releaseBuilds(`thawed-${h.nonce}`);
    const run = await h.completed(target, sha, "test", 180_000);
    assert.equal(run.conclusion, "success");
    const logBefore = await h.logOf(job.id);
    frozen.child.kill("SIGCONT");
    await h.waitFor("the frozen runner to notice", () =>
      frozen.lines.some((l) => l.includes(job.id) && l.includes("another runner holds it now"))
        ? true
        : undefined,
    );
    // Once its process is gone, whatever the woken runner would write or report is in.
    frozen.child.kill("SIGTERM");
    await frozen.exited;
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1, "one conclusion");
    assert.equal(await h.logOf(job.id), logBefore, "the woken runner wrote nothing into the log");
    assert.equal(logBefore.split("finished\n").length - 1, 1);
    await other.stop();
  });

  it("two runners on one queue: every job runs once", async () => {
    h.startRunner({ name: `left-${h.nonce}`, concurrency: 1 });
    h.startRunner({ name: `right-${h.nonce}`, concurrency: 1 });
    const { git, target } = h.repository();
    const yml = ["a", "b", "c"]
      .map((name) => hooksYml({ name, build: `echo ran-${name}` }))
      .map((text, i) => (i === 0 ? text : text.replace("hooks:\n", "")))
      .join("");
    const shas = [
      git.commit({ ".github/kozmic.yml": yml, n: "1" }, { branch: "one" }),
      git.commit({ ".github/kozmic.yml": yml, n: "2" }, { branch: "two" }),
      git.commit({ ".github/kozmic.yml": yml, n: "3" }, { branch: "three" }),
    ];
    await h.push(target, shas[0]!, "one");
    await h.push(target, shas[1]!, "two");
    await h.push(target, shas[2]!, "three");
    for (const sha of shas) {
      for (const hook of ["a", "b", "c"]) {
        const run = await h.completed(target, sha, hook);
        assert.equal(run.conclusion, "success");
        assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
      }
    }
    const builds = (
      await Promise.all(shas.map((sha) => h.store.findBuildsByCommit(target.id, sha)))
    ).flat();
    const jobs = (await Promise.all(builds.map((b) => h.store.listJobs(b.id)))).flat();
    assert.equal(jobs.length, 9);
    for (const job of jobs) {
      const log = await h.logOf(job.id);
      assert.equal(log.split(`ran-${job.hook}\n`).length - 1, 1, `job ${job.hook} ran once`);
      assert.equal(log.split("==> runner ").length - 1, 1, "picked up once");
    }
  });

  it("SIGTERM: a running job past the grace period goes back to the queue and another runner finishes it", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    const name = `graceful-${h.nonce}`;
    const child = h.spawnRunner({ name, shutdownGraceMs: 500 });
    await h.waitFor(
      "the child runner",
      () => (child.lines.includes("child ready") ? true : undefined),
      // A new node process loading the runner: minutes on a loaded machine.
      600_000,
    );
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({
        // Outlasts the SIGTERM and the 0.5 s grace: it goes on only when released.
        build: gatedBuild("slow"),
      }),
    });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor("the build to start", async () =>
      linesOf(await h.logOf(job.id), "slow") === 1 ? true : undefined,
    );
    child.child.kill("SIGTERM");
    assert.equal(await child.exited, 0);
    assert.ok(child.lines.some((l) => l.includes("grace period over")));
    const returned = await h.store.getJob(job.id);
    assert.equal(returned?.status, "queued");
    assert.match(await h.logOf(job.id), /runner shutting down: the job goes back to the queue/);
    assert.deepEqual(containersOf(name), [], "its containers are gone");

    h.startRunner({ name: `after-${h.nonce}` });
    await h.waitFor("the build to start again", async () =>
      linesOf(await h.logOf(job.id), "slow") === 2 ? true : undefined,
    );
    releaseBuilds(`after-${h.nonce}`);
    const run = await h.completed(target, sha, "test", 180_000);
    assert.equal(run.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
    const requeued = run.updates.find((u) => u.status === "queued");
    assert.match(
      JSON.stringify(requeued?.output),
      /the runner shut down/,
      "the check run said the job went back to the queue",
    );
  });
});
