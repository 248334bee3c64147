import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readSettings, type Env } from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import { labelEngine, removeLeftoverContainers } from "../../runner/worker/label-engine.js";
import { FakeEngine } from "../support/fake-engine.js";
import {
  claimRunnerName,
  runnerNameHolder,
  sharedNameWarning,
} from "../../runner/worker/runner-name.js";
import { generateAppKey } from "../support/fake-github/app-key.js";

const readAppCredentials = (env: Env) => readSettings(env, ["app"]).app;
const readRunnerSettings = (env: Env) => {
  const s = readSettings(env, ["runner", "pipeline"]);
  return { ...s.runner, pipeline: s.pipeline };
};

describe("readRunnerSettings", () => {
  it("defaults: one job per CPU, 50 MB log cap, 60 s grace, 5 receives", () => {
    const s = readRunnerSettings({ KOZMIC_RUNNER_NAME: "host-1" });
    assert.equal(s.name, "host-1");
    assert.equal(s.concurrency, Math.max(1, cpus().length));
    assert.equal(s.logCapBytes, 50 * 1024 * 1024);
    assert.equal(s.shutdownGraceMs, 60_000);
    assert.equal(s.maxReceives, 5);
    assert.equal(s.publicUrl, "http://localhost:3000");
    assert.equal(s.mirrorMaxAgeMs, 14 * 24 * 3600_000);
    assert.equal(s.pipeline.dataDir, "./.kozmic");
    assert.ok(s.heartbeatMs * 2 < s.leaseMs, "heartbeats well inside the lease");
    assert.ok(s.cancelPollMs < 10_000, "a cancel is seen within 10 s");
  });

  it("reads every KOZMIC_ variable it owns", () => {
    const s = readRunnerSettings({
      KOZMIC_RUNNER_CONCURRENCY: "3",
      KOZMIC_PUBLIC_URL: "https://ci.example.com/",
      KOZMIC_LOG_CAP_BYTES: "10m",
      KOZMIC_SHUTDOWN_GRACE: "2m",
      KOZMIC_MAX_RECEIVES: "7",
      KOZMIC_MIRROR_MAX_AGE: "48h",
      KOZMIC_DATA_DIR: "/var/lib/kozmic",
    });
    assert.equal(s.mirrorMaxAgeMs, 48 * 3600_000);
    assert.equal(s.concurrency, 3);
    assert.equal(s.publicUrl, "https://ci.example.com");
    assert.equal(s.logCapBytes, 10 * 1024 * 1024);
    assert.equal(s.shutdownGraceMs, 120_000);
    assert.equal(s.maxReceives, 7);
    assert.equal(s.pipeline.dataDir, "/var/lib/kozmic");
  });

  const bad: [Record<string, string>, RegExp][] = [
    [
      { KOZMIC_RUNNER_CONCURRENCY: "0" },
      /KOZMIC_RUNNER_CONCURRENCY must be a whole number from 1 to 256, got "0"/,
    ],
    [{ KOZMIC_RUNNER_CONCURRENCY: "two" }, /KOZMIC_RUNNER_CONCURRENCY/],
    [{ KOZMIC_PUBLIC_URL: "ci.example.com" }, /KOZMIC_PUBLIC_URL must be an http\(s\) URL/],
    [{ KOZMIC_LOG_CAP_BYTES: "lots" }, /KOZMIC_LOG_CAP_BYTES must be a size/],
    [{ KOZMIC_SHUTDOWN_GRACE: "soon" }, /KOZMIC_SHUTDOWN_GRACE must be a duration/],
    [{ KOZMIC_MIRROR_MAX_AGE: "a fortnight" }, /KOZMIC_MIRROR_MAX_AGE must be a duration/],
    [{ KOZMIC_RUNNER_NAME: "my runner" }, /KOZMIC_RUNNER_NAME must be/],
    [{ KOZMIC_DEFAULT_MEMORY: "huge" }, /KOZMIC_DEFAULT_MEMORY/],
  ];
  for (const [env, message] of bad) {
    it(`names the bad variable: ${Object.keys(env)[0]}=${Object.values(env)[0]}`, () => {
      assert.throws(() => readRunnerSettings(env), message);
    });
  }
});

describe("readAppCredentials", () => {
  const key = generateAppKey();
  it("takes PRIVATE_KEY (with \\n escapes, as in .env files) and GHE_HOST", () => {
    const c = readAppCredentials({
      APP_ID: "12",
      PRIVATE_KEY: key.privateKeyPem.replace(/\n/g, "\\n"),
      GHE_HOST: "github.example.com",
    });
    assert.equal(c.appId, 12);
    assert.equal(c.privateKey, key.privateKeyPem);
    assert.equal(c.baseUrl, "https://github.example.com/api/v3");
  });

  it("reads PRIVATE_KEY_PATH and honours GHE_PROTOCOL", () => {
    const dir = mkdtempSync(join(tmpdir(), "kozmic-key-"));
    try {
      writeFileSync(join(dir, "app.pem"), key.privateKeyPem);
      const c = readAppCredentials({
        APP_ID: "12",
        PRIVATE_KEY_PATH: join(dir, "app.pem"),
        GHE_HOST: "127.0.0.1:8080",
        GHE_PROTOCOL: "http",
      });
      assert.equal(c.baseUrl, "http://127.0.0.1:8080/api/v3");
      assert.equal(c.privateKey, key.privateKeyPem);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses api.github.com without GHE_HOST", () => {
    const c = readAppCredentials({ APP_ID: "1", PRIVATE_KEY: key.privateKeyPem });
    assert.equal(c.baseUrl, "https://api.github.com");
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{}, /APP_ID is required: the App ID from the GitHub App's settings page/],
    [{ APP_ID: "kozmic" }, /APP_ID must be the GitHub App's numeric App ID, got "kozmic"/],
    [{ APP_ID: "1" }, /PRIVATE_KEY or PRIVATE_KEY_PATH is required/],
    [{ APP_ID: "1", PRIVATE_KEY: "hunter2" }, /PRIVATE_KEY must be the app's private key/],
    [
      { APP_ID: "1", PRIVATE_KEY_PATH: "/nonexistent/app.pem" },
      /PRIVATE_KEY_PATH must name a readable file, got "\/nonexistent\/app.pem" \(ENOENT\)/,
    ],
    [
      { APP_ID: "1", PRIVATE_KEY: key.privateKeyPem, GHE_PROTOCOL: "ftp" },
      /GHE_PROTOCOL must be "https" or "http"/,
    ],
    [
      { APP_ID: "1", PRIVATE_KEY: key.privateKeyPem, GHE_HOST: "https://ghe.example.com" },
      /GHE_HOST must be a host name/,
    ],
  ];
  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env).replace(/-----BEGIN[^"]*/, "<pem>")}`, () => {
      assert.throws(
        () => readAppCredentials(env),
        (error: unknown) => {
          assert.ok(error instanceof SettingsError);
          assert.match((error as Error).message, message);
          assert.ok(!(error as Error).message.includes("hunter2"), "never echoes a key");
          return true;
        },
      );
    });
  }
});

describe("labelEngine and leftovers", () => {
  /** A fake engine with busybox, and a step spec of job-1 (its source dir to remove after). */
  function engineWithSpec() {
    const engine = new FakeEngine();
    engine.addImage("busybox");
    const dir = mkdtempSync(join(tmpdir(), "kozmic-label-"));
    const spec = {
      image: "busybox",
      env: {},
      labels: { "kozmic.job": "job-1" },
      memoryBytes: 1,
      nanoCpus: 1,
      pidsLimit: 1,
      network: "none",
      files: { sourceDir: dir, uid: 0, gid: 0, extra: [] },
    };
    return { engine, dir, spec };
  }

  it("labels what it creates with the runner's name, and a restart removes only those", async () => {
    const { engine, dir, spec } = engineWithSpec();
    const mine = await labelEngine(engine, "runner-a").createStep(spec);
    const theirs = await labelEngine(engine, "runner-b").createStep({
      ...spec,
      labels: { "kozmic.job": "job-2" },
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(engine.containers.get(mine)?.spec.labels["kozmic.runner"], "runner-a");
    assert.equal(engine.containers.get(mine)?.spec.labels["kozmic.job"], "job-1");
    assert.deepEqual(await removeLeftoverContainers(engine, "runner-a"), {
      jobs: ["job-1"],
      otherHosts: [],
    });
    assert.ok(!engine.containers.has(mine));
    assert.ok(engine.containers.has(theirs));
  });

  it("never removes the containers of a runner with the same name on another host, and names it", async () => {
    const { engine, dir, spec } = engineWithSpec();
    const here = await labelEngine(engine, "ci", "host-a").createStep(spec);
    const there = await labelEngine(engine, "ci", "host-b").createStep({
      ...spec,
      labels: { "kozmic.job": "job-2" },
    });
    const old = await engine.createStep({
      ...spec,
      labels: { "kozmic.job": "job-0", "kozmic.runner": "ci" },
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(engine.containers.get(there)?.spec.labels["kozmic.runner.host"], "host-b");
    const left = await removeLeftoverContainers(engine, "ci", "host-a");
    assert.deepEqual(left.jobs.sort(), ["job-0", "job-1"]);
    assert.deepEqual(left.otherHosts, ["host-b"]);
    assert.ok(!engine.containers.has(here));
    assert.ok(!engine.containers.has(old), "a container from before host labels is this host's");
    assert.ok(engine.containers.has(there), "another host's running job is left alone");
    assert.match(
      sharedNameWarning(left.otherHosts),
      /on host host-b use this Docker engine.*own KOZMIC_RUNNER_NAME/,
    );
  });

  it("claims the runner's name on this host: a second live process is refused, a dead one's claim taken over", () => {
    const dir = mkdtempSync(join(tmpdir(), "kozmic-claim-"));
    const claim = claimRunnerName(dir, "ci");
    assert.equal(runnerNameHolder(dir, "ci"), process.pid);
    // Another live process holds it: pid 1 is always alive.
    claim.release();
    writeFileSync(join(dir, "runners", "ci.pid"), "1");
    assert.throws(
      () => claimRunnerName(dir, "ci"),
      /another kozmic runner named ci is running on this host \(pid 1;.*own KOZMIC_RUNNER_NAME/,
    );
    // A process that is gone.
    writeFileSync(join(dir, "runners", "ci.pid"), "999999999");
    assert.equal(runnerNameHolder(dir, "ci"), undefined);
    const again = claimRunnerName(dir, "ci");
    assert.equal(
      readFileSync(join(dir, "runners", "ci.pid"), "utf8").split(" ")[0],
      String(process.pid),
    );
    again.release();
    assert.equal(runnerNameHolder(dir, "ci"), undefined);
    rmSync(dir, { recursive: true, force: true });
  });
});
