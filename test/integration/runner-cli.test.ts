import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statfsSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp, type FakeGitHttp } from "../support/fake-github/git-http.js";
import { createGitRepo } from "../support/git-repos.js";
import { planPush } from "../support/git-plan.js";
import { ensureBusyboxImage } from "../support/images.js";
import { freePort } from "../support/free-port.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { logRecords } from "../support/log-records.js";
import { hooksYml, removeContainersOf, RUNNER_IMAGE } from "../e2e/runner-harness.js";

const cli = (env: Record<string, string>) =>
  spawnSync(process.execPath, kozmicArgv(["runner"]), {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });

describe("kozmic runner (the command)", () => {
  it("stops at start with exit 2 and the name of a bad variable", () => {
    const noApp = cli({});
    assert.equal(noApp.status, 2);
    assert.match(noApp.stderr, /kozmic runner: APP_ID is required/);
    const key = generateAppKey();
    const badConcurrency = cli({
      APP_ID: "1",
      PRIVATE_KEY: key.privateKeyPem,
      KOZMIC_RUNNER_CONCURRENCY: "-1",
    });
    assert.equal(badConcurrency.status, 2);
    assert.match(badConcurrency.stderr, /KOZMIC_RUNNER_CONCURRENCY must be a whole number/);
    const badQueue = cli({ APP_ID: "1", PRIVATE_KEY: key.privateKeyPem, KOZMIC_QUEUE_URL: "sqs" });
    assert.equal(badQueue.status, 2);
    assert.match(badQueue.stderr, /KOZMIC_QUEUE_URL must be an http\(s\) URL/);
    assert.ok(!badQueue.stderr.includes("BEGIN"), "the key is never printed");
  });

  // The tests run at once: each has its runner, names and data directory (a disk of its own
  // for the disk tests), and most of their time is spent waiting on the runner's own
  // intervals (disk checks, retry backoff), which do not shorten.
  describe(
    "against GitHub Enterprise Server (the fake), embedded queue and store",
    {
      concurrency: true,
    },
    () => {
      let fake: FakeGitHub;
      let dir: string;
      // One git endpoint for all: the first attached answers every repository of the fake.
      let http: FakeGitHttp;
      const key = generateAppKey();
      before(async () => {
        ensureBusyboxImage(RUNNER_IMAGE);
        fake = await FakeGitHub.start({
          appPublicKey: key.publicKeyPem,
          appId: 31,
          enterprise: true,
          description: "ghes-3.17",
        });
        http = attachGitHttp(fake);
        dir = mkdtempSync(join(tmpdir(), "kozmic-runner-cli-"));
      });
      after(async () => {
        http.close();
        await fake.close();
        rmSync(dir, { recursive: true, force: true });
      });

      /** The commit's first check run once completed, or as it is after `ms`. */
      async function completedRun(repoName: string, sha: string, ms: number) {
        const deadline = Date.now() + ms;
        let run = fake.checkRunsOf(repoName, sha)[0];
        while (run?.status !== "completed" && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          run = fake.checkRunsOf(repoName, sha)[0];
        }
        return run;
      }

      /** A private repository of the fake with ids of its own: the tests run side by side. */
      function privateRepository(prefix: string, idBase: number) {
        const repoName = `ghe/${prefix}-${Math.floor(Math.random() * 1e9)}`;
        const record = fake.addRepository({ fullName: repoName, installationId: 9, private: true });
        record.id = idBase + Math.floor(Math.random() * 1e9);
        return { repoName, record, git: createGitRepo(fake, http, repoName) };
      }

      /** Plans a push of the fake's private repository (installation 9) onto queue and store. */
      function planOn(
        queue: Parameters<typeof planPush>[0]["queue"],
        store: Parameters<typeof planPush>[0]["store"],
        repo: { id: number; fullName: string },
        sha: string,
        config: string,
      ) {
        return planPush({
          fake,
          privateKey: key.privateKeyPem,
          queue,
          store,
          repository: {
            id: repo.id,
            fullName: repo.fullName,
            cloneUrl: `${fake.origin}/${repo.fullName}.git`,
            private: true,
          },
          installationId: 9,
          sha,
          config,
        });
      }

      /** `kozmic runner` itself (not a wrapper), on the fake GHES and the embedded data dir. */
      function startRunnerCommand(name: string, dataDir = dir, env: Record<string, string> = {}) {
        const child = spawn(process.execPath, kozmicArgv(["runner"]), {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            APP_ID: "31",
            PRIVATE_KEY: key.privateKeyPem,
            GHE_HOST: fake.host,
            GHE_PROTOCOL: "http",
            KOZMIC_DATA_DIR: dataDir,
            KOZMIC_RUNNER_NAME: name,
            KOZMIC_RUNNER_CONCURRENCY: "1",
            KOZMIC_PUBLIC_URL: "https://ci.example.com",
            ...env,
          },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let text = "";
        child.stderr.on("data", (d: Buffer) => (text += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
        return { child, exited, stderr: () => text };
      }

      /** A 64 MiB filesystem of its own (root: the test mounts it), for a disk that fills. */
      function mountSmallDisk(prefix: string): string {
        const small = mkdtempSync(join(tmpdir(), prefix));
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", small]);
        return small;
      }
      function unmountSmallDisk(small: string): void {
        execFileSync("umount", [small]);
        rmSync(small, { recursive: true, force: true });
      }
      /** Polls `probe` every 200 ms; fails after `ms` with the runner's output. */
      function untilIn(stderr: () => string, ms: number) {
        return async (what: string, probe: () => boolean | Promise<boolean>) => {
          const deadline = Date.now() + ms;
          while (!(await probe())) {
            if (Date.now() > deadline)
              throw new Error(`timed out waiting for ${what}:\n${stderr()}`);
            await new Promise((r) => setTimeout(r, 200));
          }
        };
      }

      it("runs a queued job to a completed check run; Ctrl-C twice returns a running job at once", async () => {
        const record = fake.addRepository({
          fullName: "ghe/app",
          installationId: 9,
          private: true,
        });
        record.id = 20_000_000 + Math.floor(Math.random() * 1e9);
        const git = createGitRepo(fake, http, "ghe/app");
        const config = hooksYml({ build: "echo from-the-cli-runner" });
        const sha = git.commit({ ".github/kozmic.yml": config });
        const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
        const store = openEmbeddedStore({ dataDir: dir });
        const name = `cli-${record.id}`;
        const { child, exited, stderr } = startRunnerCommand(name);
        try {
          const { jobIds } = await planOn(queue, store, record, sha, config);
          const run = await completedRun("ghe/app", sha, 60_000);
          assert.equal(run?.conclusion, "success", stderr());
          assert.match(
            run?.output.summary ?? "",
            new RegExp(`https://ci.example.com/jobs/${jobIds[0]}`),
          );
          const log = (await store.readLog(jobIds[0]!)).map((c) => c.data).join("");
          assert.match(log, /from-the-cli-runner/);
          assert.deepEqual(fake.violations, []);

          // Ctrl-C twice while a job runs: the runner stops at once and returns the job.
          const slowConfig = hooksYml({ build: "echo started\nsleep 120" });
          const slowSha = git.commit({ ".github/kozmic.yml": slowConfig });
          const slow = await planOn(queue, store, record, slowSha, slowConfig);
          const slowJob = slow.jobIds[0]!;
          const deadline = Date.now() + 60_000;
          while (Date.now() < deadline) {
            const text = (await store.readLog(slowJob)).map((c) => c.data).join("");
            if (text.includes("started\n")) break;
            await new Promise((r) => setTimeout(r, 200));
          }
          child.kill("SIGINT");
          // The second Ctrl-C once the first was taken: two signals at once may arrive as one.
          while (!/Ctrl-C again to stop at once/.test(stderr()) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
          }
          child.kill("SIGINT");
          assert.equal(await exited, 0);
          assert.match(stderr(), /Ctrl-C again to stop at once/);
          assert.match(stderr(), /stopped/);
          const returned = await store.getJob(slowJob);
          assert.equal(returned?.status, "queued");
          const slowLog = (await store.readLog(slowJob)).map((c) => c.data).join("");
          assert.match(slowLog, /runner shutting down: the job goes back to the queue/);
        } finally {
          if (child.exitCode === null) child.kill("SIGKILL");
          removeContainersOf(name);
          await queue.close();
          await store.close();
        }
      });

      it("a disk running short: the runner removes git mirrors unused for an hour first, and goes on taking jobs", async () => {
        const small = mountSmallDisk("kozmic-short-disk-");
        const port = await freePort();
        const { child, exited, stderr } = startRunnerCommand(
          `short-${randomUUID().slice(0, 8)}`,
          small,
          {
            KOZMIC_METRICS_PORT: String(port),
          },
        );
        const until = untilIn(stderr, 120_000);
        try {
          await until("the runner to receive", () => /receiving jobs/.test(stderr()));
          // A mirror last used two hours ago (kept by the 14-day age rule), 16 MiB of it.
          const stale = join(small, "mirrors", "424242.git");
          mkdirSync(stale, { recursive: true });
          writeFileSync(join(stale, "pack"), Buffer.alloc(16 * 1024 ** 2));
          const marker = join(stale, "kozmic-last-used");
          writeFileSync(marker, "");
          const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
          utimesSync(marker, twoHoursAgo, twoHoursAgo);
          // A recent one stays.
          const recent = join(small, "mirrors", "434343.git");
          mkdirSync(recent);
          writeFileSync(join(recent, "kozmic-last-used"), "");
          const { bavail, bsize } = statfsSync(small);
          writeFileSync(join(small, "filler"), Buffer.alloc(bavail * bsize - 1.5 * 1024 * 1024));
          await until("the runner to free space", () =>
            /disk short of space: removed/.test(stderr()),
          );
          assert.match(stderr(), /and 1 git mirror\(s\) unused for an hour/);
          assert.equal(existsSync(stale), false, "the stale mirror is gone");
          assert.equal(existsSync(recent), true, "the recent mirror is kept");
          const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
            takingJobs: boolean;
          };
          assert.equal(health.takingJobs, true);
          assert.doesNotMatch(stderr(), /not taking jobs/);
        } finally {
          child.kill("SIGTERM");
          await exited;
          unmountSmallDisk(small);
        }
      });

      it("a disk that fills during a job's checkout: the attempt is an infrastructure problem naming the disk, and the job runs once space is back", async () => {
        const small = mountSmallDisk("kozmic-enospc-");
        const { repoName, record, git } = privateRepository("enospc", 40_000_000);
        const config = hooksYml({ build: "echo ran-once-the-disk-had-room" });
        // About 9 MiB of pack that does not compress: more than the disk will have free.
        const sha = git.commit({
          ".github/kozmic.yml": config,
          "data.b64": randomBytes(9 * 1024 ** 2).toString("base64"),
        });
        const { child, exited, stderr } = startRunnerCommand(`enospc-${record.id}`, small);
        const queue = openEmbeddedQueue({ dataDir: small, log: () => {} });
        const store = openEmbeddedStore({ dataDir: small });
        const until = untilIn(stderr, 180_000);
        const filler = join(small, "filler");
        try {
          await until("the runner to receive", () => /receiving jobs/.test(stderr()));
          // 5 MiB left free: above the 5% (3.2 MiB) the runner asks for, so it takes the job.
          const { bavail, bsize } = statfsSync(small);
          writeFileSync(filler, Buffer.alloc(bavail * bsize - 5 * 1024 ** 2));
          const { jobIds } = await planOn(queue, store, record, sha, config);
          const jobId = jobIds[0]!;
          const logText = async () => (await store.readLog(jobId)).map((c) => c.data).join("");
          await until("the attempt to end", async () =>
            /goes back to the queue/.test(await logText()),
          );
          const first = await logText();
          assert.match(
            first,
            new RegExp(
              `infrastructure problem: a disk of this host is full \\(the data directory is ${small}\\)`,
            ),
          );
          assert.match(first, /No space left on device/i);
          assert.ok(
            fake.checkRunsOf(repoName, sha).every((r) => r.conclusion !== "failure"),
            "a full disk is never the user's failure",
          );

          rmSync(filler);
          await until("the check run to complete", () =>
            fake.checkRunsOf(repoName, sha).some((r) => r.status === "completed"),
          );
          const runs = fake.checkRunsOf(repoName, sha);
          assert.equal(runs.length, 1);
          assert.equal(runs[0]!.conclusion, "success", `${await logText()}\n${stderr()}`);
          assert.match(await logText(), /ran-once-the-disk-had-room/);
        } finally {
          child.kill("SIGTERM");
          await exited;
          removeContainersOf(`enospc-${record.id}`);
          await queue.close();
          await store.close();
          unmountSmallDisk(small);
        }
      });

      it("a full disk under the data directory: the runner takes no job and says so on /healthz and /metrics, then runs it once space is back", async () => {
        // A 64 MiB filesystem of its own (root: the test mounts it), left almost full.
        const small = mountSmallDisk("kozmic-full-disk-");
        const { repoName, record, git } = privateRepository("full", 30_000_000);
        const config = hooksYml({ build: "echo ran-after-the-disk-emptied" });
        const sha = git.commit({ ".github/kozmic.yml": config });
        const port = await freePort();
        const name = `full-${record.id}`;
        const { child, exited, stderr } = startRunnerCommand(name, small, {
          KOZMIC_METRICS_PORT: String(port),
        });
        const queue = openEmbeddedQueue({ dataDir: small, log: () => {} });
        const store = openEmbeddedStore({ dataDir: small });
        const until = untilIn(stderr, 120_000);
        const healthz = async () =>
          (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
            takingJobs: boolean;
            problem?: string;
          };
        const takingJobsGauge = async () =>
          /^kozmic_runner_taking_jobs (\d)$/m.exec(
            await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
          )?.[1];
        try {
          await until("the runner to receive", () => /receiving jobs/.test(stderr()));
          assert.equal((await healthz()).takingJobs, true);
          assert.equal(await takingJobsGauge(), "1");
          // Filled to 1.5 MiB short of full: under the 5% (3.2 MiB) a disk must keep free.
          const { bavail, bsize } = statfsSync(small);
          const filler = join(small, "filler");
          writeFileSync(filler, Buffer.alloc(bavail * bsize - 1.5 * 1024 * 1024));
          await until("the runner to stop taking jobs", () =>
            new RegExp(`not taking jobs: the disk under ${small} is full`).test(stderr()),
          );
          const health = await healthz();
          assert.equal(health.takingJobs, false);
          assert.match(
            health.problem ?? "",
            new RegExp(`the disk under ${small} is full \\(1 MiB free`),
          );
          assert.equal(await takingJobsGauge(), "0");
          const { jobIds } = await planOn(queue, store, record, sha, config);
          // The runner looks again every 2 s: three answers later, the job has not moved.
          const queuedAt = Date.now();
          await until("three more checks", () => Date.now() - queuedAt > 6_000);
          assert.equal((await store.getJob(jobIds[0]!))?.status, "queued");
          assert.equal((await healthz()).takingJobs, false);

          rmSync(filler);
          const emptiedAt = Date.now();
          await until("the check run to complete", () =>
            fake.checkRunsOf(repoName, sha).some((r) => r.status === "completed"),
          );
          const run = fake.checkRunsOf(repoName, sha)[0]!;
          assert.equal(run.conclusion, "success", stderr());
          const job = await store.getJob(jobIds[0]!);
          assert.ok((job?.startedAt ?? 0) >= emptiedAt, "the job started once space was back");
          const log = (await store.readLog(jobIds[0]!)).map((c) => c.data).join("");
          assert.match(log, /attempt 1 of/, "no attempt was spent on the full disk");
          assert.match(stderr(), /taking jobs again/);
          assert.equal((await healthz()).takingJobs, true);
          assert.equal(await takingJobsGauge(), "1");
        } finally {
          child.kill("SIGTERM");
          await exited;
          removeContainersOf(name);
          await queue.close();
          await store.close();
          unmountSmallDisk(small);
        }
      });

      it("plans deliveries too: a planning message becomes a check run and a job it runs", async () => {
        const record = fake.addRepository({ fullName: "ghe/planned", installationId: 9 });
        record.id = 20_000_000 + Math.floor(Math.random() * 1e9);
        const git = createGitRepo(fake, http, "ghe/planned");
        const sha = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo planned-here" }) });
        // A data dir of its own: the job the first test returns to the queue would go first.
        const planDir = mkdtempSync(join(tmpdir(), "kozmic-runner-plans-"));
        const planQueue = openEmbeddedQueue({
          dataDir: planDir,
          name: "plans",
          kind: PLAN_MESSAGES,
        });
        const name = `cli-plan-${record.id}`;
        const { child, exited, stderr } = startRunnerCommand(name, planDir);
        try {
          // What the webhook endpoint sends for a push.
          await planQueue.send({
            version: 1,
            deliveryId: `runner-plans-${record.id}`,
            installationId: 9,
            repository: {
              id: record.id,
              fullName: "ghe/planned",
              cloneUrl: `${fake.origin}/ghe/planned.git`,
              private: false,
            },
            task: { kind: "build", event: "push", sha, ref: "refs/heads/main", trigger: "octocat" },
          });
          const run = await completedRun("ghe/planned", sha, 120_000);
          assert.equal(run?.conclusion, "success", stderr());
          assert.equal(fake.checkRunsOf("ghe/planned", sha).length, 1);
          const planned = logRecords(stderr()).find(
            (r) => r.component === "planner" && r.msg.startsWith("planned build for delivery"),
          );
          assert.equal(planned?.msg, `planned build for delivery runner-plans-${record.id}`);
          assert.equal(planned.level, 30, "info");
          assert.deepEqual(fake.violations, []);
          child.kill("SIGTERM");
          assert.equal(await exited, 0);
        } finally {
          if (child.exitCode === null) child.kill("SIGKILL");
          removeContainersOf(name);
          await planQueue.close();
          rmSync(planDir, { recursive: true, force: true });
        }
      });
      it("logs JSON records like the app's; LOG_LEVEL=warn hides info; LOG_FORMAT=pretty reads as text", async () => {
        // Docker out of reach: a warning at start (leftover containers cannot be listed).
        const env = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };
        const run = async (extra: Record<string, string>, until: RegExp) => {
          const logDir = mkdtempSync(join(tmpdir(), "kozmic-runner-log-"));
          const { child, exited, stderr } = startRunnerCommand("cli-log", logDir, {
            ...env,
            ...extra,
          });
          try {
            const deadline = Date.now() + 30_000;
            while (!until.test(stderr()) && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 50));
            }
            child.kill("SIGTERM");
            assert.equal(await exited, 0, stderr());
            return stderr();
          } finally {
            if (child.exitCode === null) child.kill("SIGKILL");
            rmSync(logDir, { recursive: true, force: true });
          }
        };

        const json = await run({}, /receiving jobs/);
        const lines = json.trimEnd().split("\n");
        const records = logRecords(json);
        assert.equal(records.length, lines.length, `every line is a JSON record:\n${json}`);
        for (const record of records) {
          assert.equal(typeof record.level, "number");
          assert.equal(typeof record.time, "number");
          assert.equal(typeof record.msg, "string");
        }
        const level = (text: RegExp) => records.find((r) => text.test(r.msg))?.level;
        assert.equal(level(/^runner cli-log: could not list leftover containers: /), 40, json);
        assert.equal(level(/^runner cli-log\/\w+: receiving jobs, 1 at a time$/), 30, json);
        assert.equal(level(/^runner cli-log\/\w+: stopped$/), 30, json);

        const quiet = await run({ LOG_LEVEL: "warn" }, /could not list leftover containers/);
        const warned = logRecords(quiet);
        assert.ok(warned.length > 0, quiet);
        assert.deepEqual(
          warned.filter((r) => r.level < 40),
          [],
          `LOG_LEVEL=warn leaves out info records:\n${quiet}`,
        );
        assert.doesNotMatch(quiet, /stopped/);

        const pretty = await run({ LOG_FORMAT: "pretty" }, /receiving jobs/);
        assert.deepEqual(logRecords(pretty), [], pretty);
        assert.match(
          pretty,
          /^\[[\d:.]+\] WARN \(kozmic-runner\): runner cli-log: could not list/m,
        );
        assert.match(pretty, /^\[[\d:.]+\] INFO \(kozmic-runner\): runner cli-log\/\w+: stopped$/m);
      });
    },
  );
});
