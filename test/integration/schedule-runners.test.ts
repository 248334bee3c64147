import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scheduleId } from "../../src/core/schedules.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp } from "../support/fake-github/git-http.js";
import { createGitRepo } from "../support/git-repos.js";
import { ensureBusyboxImage } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { hooksYml, removeContainersOf, RUNNER_IMAGE } from "../e2e/runner-harness.js";

const DAY = 86_400_000;

/**
 * Real `kozmic runner` processes on one embedded data dir: their minute timers, one holding
 * the store's lease, fire a schedule whose ticks passed while nothing ran.
 */
describe("schedules on kozmic runner processes", () => {
  let fake: FakeGitHub;
  let dir: string;
  const key = generateAppKey();
  before(async () => {
    ensureBusyboxImage(RUNNER_IMAGE);
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 33, enterprise: true });
    dir = mkdtempSync(join(tmpdir(), "kozmic-schedule-runners-"));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startRunner(name: string) {
    const child = spawn(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "33",
        PRIVATE_KEY: key.privateKeyPem,
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        KOZMIC_DATA_DIR: dir,
        KOZMIC_RUNNER_NAME: name,
        KOZMIC_RUNNER_CONCURRENCY: "1",
        KOZMIC_PUBLIC_URL: "https://ci.example.com",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    return { child, exited, stderr: () => text };
  }

  it("two runners after three days down: the latest missed tick builds the branch's head once, its check run completes", async () => {
    const http = attachGitHttp(fake);
    const record = fake.addRepository({ fullName: "ghe/nightly", installationId: 9 });
    const git = createGitRepo(fake, http, "ghe/nightly");
    git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo old" }) });
    const head = git.commit({ ".github/kozmic.yml": hooksYml({ build: "echo nightly-here" }) });
    // As a push to main three days ago left it: every runner has been down since.
    const store = openEmbeddedStore({ dataDir: dir, retention: false });
    const cron = "0 3 * * *";
    await store.replaceSchedules(record.id, [
      {
        id: scheduleId(record.id, cron, "main"),
        repoId: record.id,
        repoFullName: "ghe/nightly",
        repoPrivate: false,
        installationId: 9,
        cron,
        branch: "main",
        lastTick: Date.now() - 3 * DAY,
      },
    ]);
    const runners = [startRunner("sched-a"), startRunner("sched-b")];
    try {
      const deadline = Date.now() + 180_000;
      let run = fake.checkRunsOf("ghe/nightly", head)[0];
      while (run?.status !== "completed" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        run = fake.checkRunsOf("ghe/nightly", head)[0];
      }
      const logs = runners.map((r) => r.stderr()).join("\n");
      assert.equal(run?.conclusion, "success", logs);
      assert.equal(fake.checkRunsOf("ghe/nightly", head).length, 1, "one check run, not three");
      const builds = await store.listBuilds(record.id);
      assert.deepEqual(
        builds.map((b) => [b.event, b.sha, b.trigger]),
        [["schedule", head, cron]],
      );
      const [schedule] = await store.listSchedules();
      assert.ok(schedule!.lastTick > Date.now() - DAY, "the schedule moved to the latest tick");
      assert.deepEqual(fake.violations, []);
      for (const r of runners) r.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all(runners.map((r) => r.exited)), [0, 0]);
    } finally {
      for (const r of runners) if (r.child.exitCode === null) r.child.kill("SIGKILL");
      for (const name of ["sched-a", "sched-b"]) removeContainersOf(name);
      await store.close();
      http.close();
    }
  });
});
