import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkRunPayload, postDelivery, signDelivery } from "../support/webhooks.js";
import { shownLog } from "../support/shown-log.js";
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

  it("failing build: the check run fails with the exit code and the output", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo 'tests: 3 failed'\nexit 3" }),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    assert.equal(run.output.title, "Failed with exit code 3");
    assert.match(run.output.text ?? "", /tests: 3 failed/, "the log tail is on the check run");
    const job = await jobOf(sha, target.id);
    assert.equal(job.exitCode, 3);
    assert.match(await h.logOf(job.id), /tests: 3 failed/);
  });

  it("a failing build's log and check run show each command as written and name the one that failed", async () => {
    const { git, target } = h.repository();
    const build = [
      "check() {",
      '  echo "1 failed: test_login"',
      "  return 1",
      "}",
      'echo "testing $PWD"',
      "check -q",
      "echo never",
    ].join("\n");
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build }) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    const job = await jobOf(sha, target.id);
    const expected =
      '+ echo "testing $PWD"\ntesting /kozmic/src\n+ check -q\n1 failed: test_login\n' +
      '==> build failed: "check -q" exited with 1\n';
    assert.ok(shownLog(await h.logOf(job.id)).includes(expected), await h.logOf(job.id));
    assert.ok((run.output.text ?? "").includes(expected), run.output.text ?? "");
    assert.doesNotMatch(await h.logOf(job.id), /never|\+ check\(\)/, "no echo of a definition");
  });

  it("a failure reads on GitHub: plain text, the failed section's end in the summary, annotations from ::error lines", async () => {
    const { git, target } = h.repository();
    const build = [
      "printf '\\033[32mPASSED\\033[0m test_one\\n'",
      "printf 'downloading 10%%\\rdownloading 100%%\\n'",
      'for i in $(seq 1 60); do echo "step $i of the build"; done',
      "echo '::error file=app.py,line=10,col=5,title=Lint::unused import os'",
      "echo '::warning file=../../etc/passwd,line=2::outside the repository'",
      "echo '::notice::deploy skipped on this branch'",
      "echo 'FAILED test_two - AssertionError'",
      "exit 1",
    ].join("\n");
    const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build }) });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    const text = run.output.text ?? "";
    assert.ok(!text.includes("\x1b"), `no terminal escape on github.com:\n${text}`);
    assert.match(text, /^PASSED test_one$/m);
    assert.match(text, /^downloading 100%$/m, "a redrawn line shows what was drawn last");
    const summary = run.output.summary ?? "";
    assert.match(summary, /The end of Build[^\n]*:\n```+text\n/);
    assert.match(summary, /FAILED test_two - AssertionError/);
    assert.match(summary, /step 60 of the build/);
    assert.doesNotMatch(summary, /step 30 of the build/, "only the section's last lines");
    assert.deepEqual(
      run.annotations.map((a) => [a.path, a.start_line, a.annotation_level, a.message]),
      [
        ["app.py", 10, "failure", "unused import os"],
        [".github", 1, "warning", "outside the repository"],
        [".github", 1, "notice", "deploy skipped on this branch"],
      ],
    );
    assert.equal(run.annotations[0]?.title, "Lint");
    assert.equal(run.annotations[0]?.start_column, 5);
  });

  it("failing install: the build never runs and nothing is cached", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({
        install: "echo 'cannot resolve dependencies'\nexit 7",
        build: "echo 'the build ran'",
      }),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "failure");
    assert.match(run.output.summary ?? "", /Install cache: \*\*miss\*\*/);
    const job = await jobOf(sha, target.id);
    const log = await h.logOf(job.id);
    assert.match(log, /cannot resolve dependencies/);
    assert.match(log, /install failed with exit code 7; nothing cached/);
    assert.ok(!log.includes("the build ran"));
  });

  it("cache: a second push hits, a change to a tracked file misses", async () => {
    const { git, target } = h.repository();
    const yml = hooksYml({
      install: "echo installing\ncp deps.txt /opt/deps",
      build: "cat /opt/deps",
      tracked: ["deps.txt"],
    });
    const summaryOf = async (sha: string) => {
      await h.push(target, sha);
      const run = await h.completed(target, sha);
      assert.equal(run.conclusion, "success", run.output.summary ?? "");
      return { run, job: await jobOf(sha, target.id) };
    };
    const one = await summaryOf(
      git.commit({ ".github/kozmic.yml": yml, "deps.txt": "left-pad 1\n" }),
    );
    assert.match(
      one.run.output.summary ?? "",
      /Install cache: \*\*miss\*\*.*\n\nWhy it missed:\n```text\nno cached install yet for this hook\n```/,
    );
    const two = await summaryOf(
      git.commit({ ".github/kozmic.yml": yml, "deps.txt": "left-pad 1\n", README: "docs\n" }),
    );
    assert.match(two.run.output.summary ?? "", /Install cache: \*\*hit\*\*/);
    assert.equal(two.job.cacheKey, one.job.cacheKey);
    assert.equal(two.job.cacheHit, true);
    assert.ok(!(await h.logOf(two.job.id)).includes("installing"));
    const three = await summaryOf(
      git.commit({ ".github/kozmic.yml": yml, "deps.txt": "left-pad 2\n" }),
    );
    assert.match(
      three.run.output.summary ?? "",
      /Install cache: \*\*miss\*\*.*\n\nWhy it missed:\n```text\ntracked file changed: deps.txt\n```/,
    );
    assert.match(await h.logOf(three.job.id), /==> {3}why: tracked file changed: deps\.txt/);
    assert.notEqual(three.job.cacheKey, one.job.cacheKey);
    assert.match(await h.logOf(three.job.id), /left-pad 2/);
  });

  it("timeout: a build past its timeout ends timed_out", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo sleeping\nsleep 60", timeout: "2s" }),
    });
    await h.push(target, sha);
    const run = await h.completed(target, sha);
    assert.equal(run.conclusion, "timed_out");
    assert.equal(run.output.title, "Timed out");
    const job = await jobOf(sha, target.id);
    assert.match(await h.logOf(job.id), /timed out: job timeout reached/);
  });

  it("cancel: the check run's Cancel button stops a running build at once", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo started\nsleep 600" }),
    });
    await h.push(target, sha);
    const job = await jobOf(sha, target.id);
    await h.waitFor(
      "the build to start",
      async () => (await h.logOf(job.id)).includes("started\n") || undefined,
    );
    const run = h.checkRuns(target, sha).find((r) => r.name === "test")!;
    // The log tail reaches the check run on the next progress update; wait for it, as a
    // person looking at the running check would, before pressing Cancel.
    await h.waitFor(
      "the log tail on the running check run",
      () =>
        run.updates.some(
          (u) => u.status === "in_progress" && JSON.stringify(u.output).includes("started"),
        ) || undefined,
    );
    const delivery = signDelivery(
      "check_run",
      checkRunPayload(target, {
        action: "requested_action",
        checkRunId: run.id,
        sha,
        name: "test",
        externalId: job.id,
        identifier: "cancel",
      }),
      h.app.secret,
    );
    const response = await postDelivery(h.app.webhookUrl, delivery);
    assert.ok(response.status < 300);
    // Cancelled, not ended by the build's ten minutes (the wait gives up long before).
    const done = await h.completed(target, sha, "test", 120_000);
    assert.equal(done.conclusion, "cancelled");
    assert.ok(
      done.updates.some(
        (u) => u.status === "in_progress" && JSON.stringify(u.output).includes("started"),
      ),
      "the running check run showed the log tail",
    );
    assert.ok(
      done.updates.some((u) => JSON.stringify(u.output).includes("Building and testing")),
      "and the phase",
    );
    const final = await h.store.getJob(job.id);
    assert.equal(final?.conclusion, "cancelled");
    assert.match(await h.logOf(job.id), /==> cancelled/);
  });

  it("superseding push: the newer commit cancels the older one's running build", async () => {
    const { git, target } = h.repository();
    const yml = hooksYml({
      build: "if [ -f slow ]; then echo slow-started; sleep 120; fi\necho done",
    });
    const old = git.commit({ ".github/kozmic.yml": yml, slow: "1\n" });
    await h.push(target, old);
    const oldJob = await jobOf(old, target.id);
    await h.waitFor(
      "the old build to start",
      async () => (await h.logOf(oldJob.id)).includes("slow-started") || undefined,
    );
    const next = git.commit({ ".github/kozmic.yml": yml });
    await h.push(target, next);
    const cancelled = await h.completed(target, old, "test", 120_000);
    assert.equal(cancelled.conclusion, "cancelled");
    const passed = await h.completed(target, next);
    assert.equal(passed.conclusion, "success");
  });
});
