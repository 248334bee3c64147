import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import Docker from "dockerode";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { FakeEngine } from "../support/fake-engine.js";
import { aBuild, aJob, aJobMessage } from "../support/job-fixtures.js";
import { gatedBuild, hooksYml, linesOf, releaseBuilds, RunnerHarness } from "./runner-harness.js";

describe("runner under failures", () => {
  let h: RunnerHarness;
  const deadLetters: { messageId: string; rawBody: string }[] = [];
  before(async () => {
    h = await RunnerHarness.start();
    h.startRunner({ name: `failures-${h.nonce}` });
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
  const collectDeadLetters = async () => {
    deadLetters.push(...(await h.queue.receiveDeadLetters(100)));
    return deadLetters;
  };

  it("a GitHub outage (502s) during a job: the result still arrives", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo started\nsleep 2\necho end" }),
    });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor("the build to start", async () =>
      (await h.logOf(job.id)).includes("started\n") ? true : undefined,
    );
    // Enough 502s that reporting is retried across several heartbeats.
    h.fake.failNext(26, 502);
    const run = await h.completed(target, sha);
    h.fake.clearFailures();
    assert.equal(run.conclusion, "success");
    assert.match(run.output.summary ?? "", /Exit code: 0/);
    assert.ok(
      h.fake.requests.filter((r) => r.status === 502).length >= 1,
      "GitHub did answer 502 while the job ran",
    );
    assert.equal((await h.store.getJob(job.id))?.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
    assert.ok(!h.runnerLog.some((l) => l.includes("taken over")), "the lease held throughout");
  });

  it("a malformed message is dead-lettered with a log line; the runner keeps going", async () => {
    await h.queue.sendRaw('{"version":1,"jobId":');
    await h.queue.sendRaw(JSON.stringify({ version: 1, hello: "world" }));
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo still-going" }) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    await h.waitFor("two dead letters", async () => {
      const letters = await collectDeadLetters();
      return letters.filter((l) => l.rawBody.includes('"version":1')).length >= 2 || undefined;
    });
    assert.ok(
      h.queueLog.some((l) => /malformed message .* moved to the dead-letter queue/.test(l)),
    );
  });

  it("a message delivered twice runs its job once", async () => {
    const { git, target } = h.repository();
    const config = hooksYml({ build: "echo once\nsleep 1" });
    const sha = git.commit({ ".github/kozmic.yml": config });
    const { jobIds, messages } = await h.planPush(target, sha, config, { send: false });
    await h.queue.sendBatch([messages[0]!, messages[0]!]);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
    const log = await h.logOf(jobIds[0]!);
    assert.equal(log.split("once\n").length - 1, 1, "the build ran once");
    await h.waitFor(
      "both messages to be gone",
      async () => {
        const left = await h.queue.receive({ maxMessages: 10, visibilitySeconds: 0 });
        return left.length === 0 || undefined;
      },
      20_000,
    );
  });

  it("a message whose hook breaks the config schema is dead-lettered as malformed, with one log line", async () => {
    const build = aBuild();
    const job = aJob(build);
    await h.store.createBuild(build, [job]);
    const bad = aJobMessage({
      jobId: job.id,
      buildId: build.id,
      hook: { name: "test", build: 42 },
    });
    await assert.rejects(h.queue.send(bad), /refusing to send an invalid job message/);
    const id = await h.queue.sendRaw(JSON.stringify(bad));
    await h.waitFor("the message to dead-letter", async () => {
      const letters = await collectDeadLetters();
      return letters.some((l) => l.messageId === id) || undefined;
    });
    const lines = h.queueLog.filter((l) => l.includes(id));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /malformed message .* not a job message \(.*hook\.build: /);
    assert.equal((await h.store.getJob(job.id))?.status, "queued", "no runner took it");
  });

  it("an infrastructure failure is retried up to the receive limit, then reported as such", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo never" }) });
    await h.push({ ...target, cloneUrl: "http://127.0.0.1:1/acme/gone.git" }, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "action_required", JSON.stringify(run.output));
    assert.equal(run.output.title, "Kozmic could not run this job (infrastructure problem)");
    assert.match(run.output.summary ?? "", /git fetch from 127\.0\.0\.1:1\/acme\/gone\.git failed/);
    assert.match(run.output.summary ?? "", /after 5 attempts/);
    const job = await onlyJob(sha, target.id);
    assert.equal(job.status, "errored");
    const log = await h.logOf(job.id);
    assert.equal(log.split("the job goes back to the queue").length - 1, 4);
    assert.match(log, /giving up after 5 attempts/);
    assert.equal(
      run.updates.filter((u) => u.status === "queued").length,
      4,
      "the check run showed each return to the queue",
    );
    // The record is marked reported once GitHub answered the completion: wait for that write.
    const reported = await h.waitFor("the record to say the end was reported", async () => {
      const current = await h.store.getJob(job.id);
      return current?.reportedAt !== undefined ? current : undefined;
    });
    assert.ok(reported.reportedAt !== undefined, "the record says the end was reported");
  });

  it("a container removed under a running job (by anyone else) is retried, never the user's failure", async () => {
    const { git, target } = h.repository();
    // The build waits to be released: its container is removed mid-build whatever the load.
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: gatedBuild() }) });
    await h.push(target, sha);
    const job = await onlyJob(sha, target.id);
    await h.waitFor("the build to start", async () =>
      linesOf(await h.logOf(job.id), "started") === 1 ? true : undefined,
    );
    const docker = new Docker();
    const [container] = await docker.listContainers({
      filters: JSON.stringify({ label: [`kozmic.job=${job.id}`] }),
    });
    assert.ok(container, "the job's container is running");
    await docker.getContainer(container.Id).remove({ force: true });
    await h.waitFor("the build to start again", async () =>
      linesOf(await h.logOf(job.id), "started") === 2 ? true : undefined,
    );
    releaseBuilds(`failures-${h.nonce}`);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success", JSON.stringify(run.output));
    const log = await h.logOf(job.id);
    assert.match(log, /the step's container was removed while it ran/);
    assert.equal(log.split("the job goes back to the queue").length - 1, 1, log);
    assert.match(log, /^finished$/m);
  });

  it("an image that cannot be pulled is an infrastructure failure, never the build's", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    // The scripted engine has no images and no registry: every pull fails.
    h.startRunner({ name: `no-registry-${h.nonce}` }, { engine: new FakeEngine() });
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo never" }) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "action_required");
    assert.match(run.output.summary ?? "", /cannot pull image kozmic-test-runner-busybox:1/);
    assert.match(run.output.summary ?? "", /This is not a result of your build/);
    const job = await onlyJob(sha, target.id);
    assert.equal(job.status, "errored");
  });

  it("every job of a failing infrastructure is reported, even when a redelivery races its give-back", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    // No image can be pulled: every attempt of every job gives it back at once (no backoff),
    // and the queue hands the message out again while the runner is still finishing.
    h.startRunner({ name: `racing-${h.nonce}`, concurrency: 4 }, { engine: new FakeEngine() });
    const pushed = [];
    for (let i = 0; i < 6; i++) {
      const { git, target } = h.repository();
      const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo never" }) });
      await h.push(target, sha);
      pushed.push({ target, sha });
    }
    for (const { target, sha } of pushed) {
      const run = await h.completed(target, sha, "test", 120_000);
      assert.equal(run.conclusion, "action_required", "reported as an infrastructure failure");
      assert.equal((await onlyJob(sha, target.id)).status, "errored");
    }
  });

  it("a Docker daemon that cannot be reached: the runner takes no job and says why; a runner whose engine answers runs it", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    const unreachable = new DockerEngine(new Docker({ socketPath: join(h.dir, "no-docker.sock") }));
    const broken = h.startRunner({ name: `no-docker-${h.nonce}` }, { engine: unreachable });
    const { git, target } = h.repository();
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo ran-elsewhere" }) });
    await h.push(target, sha);
    await h.waitFor("the runner to say why it takes no job", () =>
      h.runnerLog.some((l) => /: not taking jobs: the Docker engine does not answer/.test(l))
        ? true
        : undefined,
    );
    assert.ok(h.runnerLog.some((l) => l.includes("could not list leftover containers")));
    // Not spent on a host that cannot run it: still queued, its log empty.
    const waiting = await onlyJob(sha, target.id);
    assert.equal(waiting.status, "queued");
    assert.equal(await h.logOf(waiting.id), "");
    await broken.stop({ graceMs: 0 });
    h.startRunner({ name: `docker-again-${h.nonce}` });
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "success");
    const log = await h.logOf((await onlyJob(sha, target.id)).id);
    assert.match(log, /ran-elsewhere/);
    assert.match(log, /attempt 1 of/, "the first attempt ran it");
  });

  it("200 MB of output: the runner's memory stays bounded and the stored log ends with the cap notice", async () => {
    for (const runner of h.runners) await runner.stop({ graceMs: 0 });
    // A 5 MB cap keeps the stored part (and the test) small; all 200 MB still flow through.
    const child = h.spawnRunner({ name: `flood-${h.nonce}`, logCapBytes: 5 * 1024 * 1024 });
    await h.waitFor(
      "the child runner",
      () => (child.lines.includes("child ready") ? true : undefined),
      // A new node process loading the runner: minutes on a loaded machine.
      600_000,
    );
    const { git, target } = h.repository();
    const line = "build output that goes on and on, as a chatty test suite does ....";
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({
        build: `yes '${line}' | head -c 209715200\necho\necho after-the-flood`,
      }),
    });
    await h.waitFor("RSS samples", () => (child.rss().length >= 5 ? true : undefined));
    const baseline = Math.max(...child.rss());
    await h.push(target, sha);
    // 200 MB through Docker, the runner and its log writer: minutes on a loaded machine.
    const run = await h.completed(target, sha, "test", 600_000);
    assert.equal(run.conclusion, "success");
    const peak = Math.max(...child.rss());
    const growthMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `runner RSS: baseline ${Math.round(baseline / 1048576)} MB, peak ${Math.round(peak / 1048576)} MB`,
    );
    assert.ok(growthMb < 120, `RSS grew by ${growthMb.toFixed(0)} MB while 200 MB flowed`);
    const job = await onlyJob(sha, target.id);
    const log = await h.logOf(job.id);
    assert.ok(log.endsWith("==> log truncated at 5 MB; the job goes on\n"), log.slice(-200));
    assert.ok(Buffer.byteLength(log) < 5 * 1024 * 1024 + 200);
    assert.match(run.output.text ?? "", /after-the-flood/, "the check run's tail shows the end");
    child.child.kill("SIGTERM");
    await child.exited;
  });
});
