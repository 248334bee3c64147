import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp } from "../support/fake-github/git-http.js";
import { freePort } from "../support/free-port.js";
import { createGitRepo } from "../support/git-repos.js";
import { planPush } from "../support/git-plan.js";
import { ensureBusyboxImage } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";
import {
  hooksYml,
  removeCacheImagesOf,
  removeContainersOf,
  RUNNER_IMAGE,
} from "../e2e/runner-harness.js";

/** The value of one sample in Prometheus text, or undefined when it is not there. */
function sample(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function waitFor<T>(what: string, get: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("metrics and health", () => {
  const key = generateAppKey();
  let fake: FakeGitHub;
  let dir: string;
  before(async () => {
    ensureBusyboxImage(RUNNER_IMAGE);
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 51, enterprise: true });
    dir = mkdtempSync(join(tmpdir(), "kozmic-metrics-"));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kozmic runner serves /metrics on KOZMIC_METRICS_PORT: jobs, queue wait, cache, log bytes, slots", async () => {
    const http = attachGitHttp(fake);
    const record = fake.addRepository({ fullName: "metrics/app", installationId: 5 });
    record.id = 30_000_000 + Math.floor(Math.random() * 1e9);
    const git = createGitRepo(fake, http, "metrics/app");
    const config = hooksYml({
      install: "echo installing > /tmp/installed",
      build: "echo built-it",
    });
    const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    const store = openEmbeddedStore({ dataDir: dir });
    const port = await freePort();
    const name = `metrics-${record.id}`;
    const child = spawn(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "51",
        PRIVATE_KEY: key.privateKeyPem,
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        KOZMIC_DATA_DIR: dir,
        KOZMIC_RUNNER_NAME: name,
        KOZMIC_RUNNER_CONCURRENCY: "2",
        KOZMIC_METRICS_PORT: String(port),
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
      return response.text();
    };
    try {
      const health = await waitFor("the metrics server", () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.json() as Promise<Record<string, unknown>>,
          () => undefined,
        ),
      );
      assert.deepEqual(health, { status: "ok", busy: 0, slots: 2, takingJobs: true });
      const before = await scrape();
      assert.equal(sample(before, "kozmic_runner_slots"), 2);
      assert.equal(sample(before, "kozmic_runner_slots_busy"), 0);

      // No GitHub trouble yet: no GitHub samples.
      assert.doesNotMatch(before, /^kozmic_github_api_errors_total\{/m);
      // The same install twice: a miss, then a hit. The second job's first check-run update
      // meets a 502 (Octokit retries it), then the primary rate limit (Octokit waits it out).
      for (const [i, text] of ["first", "second"].entries()) {
        const sha = git.commit({ ".github/kozmic.yml": config, "README.md": text });
        const { messages } = await planPush({
          fake,
          privateKey: key.privateKeyPem,
          queue,
          store,
          repository: {
            id: record.id,
            fullName: "metrics/app",
            cloneUrl: `${fake.origin}/metrics/app.git`,
            private: false,
          },
          installationId: 5,
          sha,
          config,
          send: false,
        });
        if (i === 1) {
          const patch = { method: "PATCH", path: /\/check-runs\/\d+$/ };
          fake.failNext(1, 502, patch);
          fake.rateLimitNext(1, 1, { primary: true, match: patch });
        }
        for (const message of messages) await queue.send(message);
        await waitFor(`job ${i + 1}`, async () => {
          const run = fake.checkRunsOf("metrics/app", sha)[0];
          return run?.status === "completed" ? run : undefined;
        });
      }
      const text = await waitFor("both jobs counted", async () => {
        const t = await scrape();
        // The slot frees once the job's container and volume are gone, just after its report.
        const done =
          sample(t, 'kozmic_runner_jobs_total{conclusion="success"}') === 2 &&
          sample(t, "kozmic_runner_slots_busy") === 0;
        return done ? t : undefined;
      });
      assert.equal(sample(text, 'kozmic_runner_cache_lookups_total{result="miss"}'), 1, text);
      assert.equal(sample(text, 'kozmic_runner_cache_lookups_total{result="hit"}'), 1, text);
      assert.ok(sample(text, "kozmic_runner_log_bytes_total")! > 0, text);
      assert.equal(sample(text, "kozmic_runner_queue_wait_seconds_count"), 2, text);
      assert.ok(sample(text, "kozmic_runner_queue_wait_seconds_sum")! >= 0, text);
      for (const phase of ["pull", "install", "build"]) {
        assert.equal(sample(text, `kozmic_runner_phase_seconds_count{phase="${phase}"}`), 2, phase);
      }
      // The miss's install and its build each run in a container, the hit's build in a third.
      assert.equal(sample(text, 'kozmic_runner_step_seconds_count{step="container run"}'), 3, text);
      assert.equal(sample(text, "kozmic_runner_slots_busy"), 0);
      assert.equal(sample(text, 'kozmic_github_api_errors_total{status="502"}'), 1, text);
      assert.equal(sample(text, 'kozmic_github_api_errors_total{status="403"}'), 1, text);
      assert.equal(sample(text, 'kozmic_github_rate_limit_waits_total{kind="primary"}'), 1, text);
      const waited = sample(text, 'kozmic_github_rate_limit_wait_seconds_total{kind="primary"}');
      assert.ok(waited! >= 1 && waited! <= 3, text);
      assert.equal(
        sample(text, 'kozmic_github_rate_limit_waits_total{kind="secondary"}'),
        undefined,
      );
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      removeContainersOf(name);
      removeCacheImagesOf([record.id]);
      await queue.close();
      await store.close();
      http.close();
    }
    assert.match(stderr, new RegExp(`metrics at http://127\\.0\\.0\\.1:${port}/metrics`));
  });

  it("KOZMIC_METRICS_PORT must be a port", async () => {
    const child = spawn(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        APP_ID: "51",
        PRIVATE_KEY: key.privateKeyPem,
        KOZMIC_DATA_DIR: dir,
        KOZMIC_METRICS_PORT: "http",
      },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.once("exit", r));
    assert.equal(code, 2);
    assert.match(stderr, /KOZMIC_METRICS_PORT must be a whole number from 1 to 65535, got "http"/);
  });

  it("kozmic serve answers /healthz, and /metrics only on its own listener, counting its planner's GitHub errors and rate-limit waits", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn(process.execPath, kozmicArgv(["serve"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "51",
        PRIVATE_KEY: key.privateKeyPem,
        WEBHOOK_SECRET: "secret",
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        PORT: String(port),
        HOST: "127.0.0.1",
        KOZMIC_DATA_DIR: join(dir, "serve"),
        KOZMIC_EMBEDDED_RUNNER: "false",
        KOZMIC_METRICS_PORT: String(metricsPort),
        LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    try {
      const health = await waitFor("kozmic serve", () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => (r.status === 200 ? r.json() : undefined),
          () => undefined,
        ),
      );
      assert.deepEqual(health, { status: "ok" });
      // The public port has no metrics: they show every repository's activity.
      const exposed = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(exposed.status, 404);
      assert.doesNotMatch(await exposed.text(), /process_|kozmic_/);
      await waitFor("the start line", async () => (/listening on/.test(stdout) ? true : undefined));
      assert.match(stdout, new RegExp(`metrics at http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /^process_resident_memory_bytes /m);
      // No runner in this process: no runner metrics.
      assert.doesNotMatch(text, /kozmic_runner_/);

      // A push whose planning meets a 502, then a secondary rate limit, creating its check run.
      const repo = fake.addRepository({ fullName: "metrics/served", installationId: 6 });
      const sha = "c".repeat(40);
      fake.addCommit("metrics/served", sha, { ".github/kozmic.yml": hooksYml({ build: "true" }) });
      const create = { method: "POST", path: /\/check-runs$/ };
      fake.failNext(1, 502, create);
      fake.rateLimitNext(1, 1, { match: create });
      const target = { fullName: "metrics/served", id: repo.id, installationId: 6 };
      const delivery = signDelivery("push", pushPayload(target, { sha }), "secret");
      const answer = await postDelivery(`http://127.0.0.1:${port}/api/github/webhooks`, delivery);
      assert.equal(answer.status, 202, await answer.text());
      const counted = await waitFor("the planning's GitHub trouble counted", async () => {
        const t = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return sample(t, 'kozmic_github_rate_limit_waits_total{kind="secondary"}') === 1 &&
          fake.checkRunsOf("metrics/served", sha).length === 1
          ? t
          : undefined;
      });
      assert.equal(sample(counted, 'kozmic_github_api_errors_total{status="502"}'), 1, counted);
      assert.equal(sample(counted, 'kozmic_github_api_errors_total{status="403"}'), 1, counted);
      assert.equal(
        sample(counted, 'kozmic_github_rate_limit_wait_seconds_total{kind="secondary"}'),
        1,
        counted,
      );
      assert.deepEqual(fake.violations, []);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
});
