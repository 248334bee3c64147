import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startSecondDockerd, type SecondDockerd } from "../support/second-dockerd.js";
import {
  gatedBuild,
  hooksYml,
  linesOf,
  releaseBuilds,
  RUNNER_IMAGE,
  RunnerHarness,
  type ChildRunner,
} from "./runner-harness.js";

// A runner in its own process drives a second dockerd the test stops and starts again, as
// `systemctl restart docker` (SIGTERM) or a crash (SIGKILL) would on a fleet host. About
// a minute: three dockerd starts, a stopping dockerd's 10 s for its containers, and a
// runner process loading per test.
describe("the Docker engine restarted mid-job", () => {
  let h: RunnerHarness;
  let engine: SecondDockerd;
  before(async () => {
    [h, engine] = await Promise.all([
      RunnerHarness.start(),
      startSecondDockerd({ name: "engine-restart" }),
    ]);
    execFileSync("sh", [
      "-c",
      `docker save "$1" | docker -H "$2" load >/dev/null`,
      "sh",
      RUNNER_IMAGE,
      engine.dockerHost,
    ]);
  });
  after(async () => {
    assert.deepEqual(h?.fake.violations, []);
    await h?.stop();
    if (engine) {
      // Its data root is kept between runs: leave no container of this run in it.
      execFileSync(
        "sh",
        ["-c", 'docker -H "$1" ps -aq | xargs -r docker -H "$1" rm -f', "sh", engine.dockerHost],
        { stdio: "ignore" },
      );
      await engine.stop();
    }
  });

  const onlyJob = async (sha: string, repoId: number) => {
    const [build] = await h.store.findBuildsByCommit(repoId, sha);
    const [job] = await h.store.listJobs(build!.id);
    return job!;
  };
  const said = (runner: ChildRunner, what: string) => () =>
    runner.lines.some((l) => l.includes(what)) ? true : undefined;
  /** Waits for the runner to say `what`; its lines are in the error. */
  const waitForLine = (runner: ChildRunner, what: string, timeoutMs?: number) =>
    h
      .waitFor(`the runner to say "${what}"`, said(runner, what), timeoutMs)
      .catch((error: unknown) => {
        throw new Error(
          `${(error as Error).message}\nits lines:\n${runner.lines.filter((l) => !l.startsWith("rss ")).join("\n")}`,
        );
      });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(
      `dockerd ${signal === "SIGTERM" ? "restarted" : "killed (-9) and started again"} mid-build: ` +
        "the job is an infrastructure failure retried on a healthy runner, never a failed build, " +
        "and the runner takes the next job once its engine is back",
      async () => {
        const name = `engine-${signal.toLowerCase()}-${h.nonce}`;
        const runner = h.spawnRunner({ name, concurrency: 1 }, 1000, {
          DOCKER_HOST: engine.dockerHost,
        });
        // A new node process loading the runner: minutes on a loaded machine.
        await waitForLine(runner, "child ready", 600_000);
        const { git, target } = h.repository();
        // The build waits to be released: the engine goes away mid-build whatever the load.
        const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: gatedBuild() }) });
        await h.push(target, sha);
        const job = await onlyJob(sha, target.id);
        await h.waitFor("the build to start", async () =>
          linesOf(await h.logOf(job.id), "started") === 1 ? true : undefined,
        );

        await engine.restart(signal, async () => {
          await waitForLine(runner, "not taking jobs: the Docker engine does not answer");
          const healthyName = `healthy-${signal.toLowerCase()}-${h.nonce}`;
          const healthy = h.startRunner({ name: healthyName });
          await h.waitFor("the build to start on the healthy runner", async () =>
            linesOf(await h.logOf(job.id), "started") === 2 ? true : undefined,
          );
          releaseBuilds(healthyName);
          const run = await h.completed(target, sha);
          await healthy.stop();
          const log = await h.logOf(job.id);
          assert.equal(run.conclusion, "success", `${log}\n${runner.lines.join("\n")}`);
          const concluded = run.updates.filter((u) => u.conclusion !== undefined);
          assert.deepEqual(
            concluded.map((u) => u.conclusion),
            ["success"],
            "the check run concluded once, and never as a failed build",
          );
          assert.match(log, /infrastructure problem: the Docker engine stopped while the step ran/);
          assert.match(log, new RegExp(`runner healthy-${signal.toLowerCase()}`));
          assert.equal(log.split("finished\n").length - 1, 1, "the build finished once");
        });

        await waitForLine(runner, "taking jobs again");
        const next = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo next" }) });
        await h.push(target, next);
        const run = await h.completed(target, next);
        assert.equal(run.conclusion, "success");
        const nextJob = await onlyJob(next, target.id);
        assert.match(await h.logOf(nextJob.id), new RegExp(`runner ${name} runs job`));
        runner.child.kill("SIGTERM");
        assert.equal(await runner.exited, 0);
      },
    );
  }
});
