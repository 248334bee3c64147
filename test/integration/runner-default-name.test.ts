import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp } from "../support/fake-github/git-http.js";
import { createGitRepo } from "../support/git-repos.js";
import { planPush } from "../support/git-plan.js";
import { ensureBusyboxImage } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { hooksYml, removeContainersOf, RUNNER_IMAGE } from "../e2e/runner-harness.js";

/** Polls `check` until it gives a value (the test's own timeout ends a hang). */
async function until<T>(check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(100);
  }
}

const containersOf = (runnerName: string) =>
  execFileSync(
    "docker",
    ["ps", "-q", "--filter", `label=kozmic.runner=${runnerName}`, "--filter", "status=running"],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean);

describe("two runners with the default name on one Docker engine", { timeout: 300_000 }, () => {
  const key = generateAppKey();
  const dirs = [
    mkdtempSync(join(tmpdir(), "kozmic-name-a-")),
    mkdtempSync(join(tmpdir(), "kozmic-name-b-")),
  ];
  const names: string[] = [];
  let fake: FakeGitHub;
  before(async () => {
    ensureBusyboxImage(RUNNER_IMAGE);
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 32, enterprise: true });
  });
  after(async () => {
    for (const name of names) removeContainersOf(name);
    await fake.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** `kozmic runner` with no KOZMIC_RUNNER_NAME, once it says its name and receives jobs. */
  async function startRunner(dataDir: string) {
    const child = spawn(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "32",
        PRIVATE_KEY: key.privateKeyPem,
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        KOZMIC_DATA_DIR: dataDir,
        KOZMIC_RUNNER_CONCURRENCY: "1",
        KOZMIC_PUBLIC_URL: "https://ci.example.com",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    void exited.then(() => (stderr += "\n(exited)"));
    const name = await until(() => {
      assert.doesNotMatch(stderr, /\(exited\)$/);
      return /runner ([^\s/]+)\/\S+: receiving jobs/.exec(stderr)?.[1];
    });
    names.push(name);
    return {
      name,
      stderr: () => stderr,
      async stop() {
        child.kill("SIGTERM");
        await exited;
      },
    };
  }

  it("each has its own persisted name, and the second's start leaves the first's running job alone", async () => {
    const http = attachGitHttp(fake);
    const record = fake.addRepository({ fullName: "ghe/names", installationId: 9 });
    record.id = 30_000_000 + Math.floor(Math.random() * 1e9);
    const git = createGitRepo(fake, http, "ghe/names");
    // Runs until the test lets it finish, by a file in its container.
    const config = hooksYml({ build: "echo started\nwhile [ ! -e /tmp/go ]; do sleep 0.1; done" });
    const sha = git.commit({ ".github/kozmic.yml": config });
    const queue = openEmbeddedQueue({ dataDir: dirs[0]!, log: () => {} });
    const store = openEmbeddedStore({ dataDir: dirs[0]! });
    const first = await startRunner(dirs[0]!);
    let second: Awaited<ReturnType<typeof startRunner>> | undefined;
    try {
      const host = hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 56);
      const { jobIds } = await planPush({
        fake,
        privateKey: key.privateKeyPem,
        queue,
        store,
        repository: {
          id: record.id,
          fullName: "ghe/names",
          cloneUrl: `${fake.origin}/ghe/names.git`,
          private: false,
        },
        installationId: 9,
        sha,
        config,
      });
      await until(
        async () =>
          (await store.readLog(jobIds[0]!)).some((c) => c.data.includes("started\n")) || undefined,
      );
      const [container] = containersOf(first.name);
      assert.ok(container, "the first runner's job container runs");

      second = await startRunner(dirs[1]!);
      assert.deepEqual(containersOf(first.name), [container], second.stderr());
      assert.notEqual(second.name, first.name);
      assert.match(second.name, new RegExp(`^${host.replace(/\./g, "\\.")}-[a-z0-9]{6}$`));
      assert.equal(
        first.name,
        `${host}-${readFileSync(join(dirs[0]!, "runner-id"), "utf8").trim()}`,
      );

      execFileSync("docker", ["exec", container, "touch", "/tmp/go"]);
      const run = await until(() => {
        const found = fake.checkRunsOf("ghe/names", sha)[0];
        return found?.status === "completed" ? found : undefined;
      });
      assert.equal(run.conclusion, "success", first.stderr());

      // A restart on the same data directory is the same runner, so it finds its leftovers.
      await first.stop();
      const again = await startRunner(dirs[0]!);
      assert.equal(again.name, first.name);
      await again.stop();
    } finally {
      await first.stop();
      await second?.stop();
      await queue.close();
      await store.close();
      http.close();
    }
  });

  it("a second runner on the same data directory refuses to start while the first runs, and says why", async () => {
    const first = await startRunner(dirs[0]!);
    try {
      const second = spawn(process.execPath, kozmicArgv(["runner"]), {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          APP_ID: "32",
          PRIVATE_KEY: key.privateKeyPem,
          GHE_HOST: fake.host,
          GHE_PROTOCOL: "http",
          KOZMIC_DATA_DIR: dirs[0]!,
          KOZMIC_PUBLIC_URL: "https://ci.example.com",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      second.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => second.on("exit", resolve));
      assert.equal(code, 2, stderr);
      const file = join(dirs[0]!, "runners", `${first.name}.pid`);
      assert.equal(
        stderr.trim().replace(/\(pid \d+;/, "(pid N;"),
        `kozmic runner: another kozmic runner named ${first.name} is running on this host ` +
          `(pid N; ${file}): two runners with one name remove each other's job containers. ` +
          "Stop it, or give this one its own KOZMIC_RUNNER_NAME (or its own KOZMIC_DATA_DIR)",
      );
    } finally {
      await first.stop();
    }
  });
});
