import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateAppKey } from "../support/fake-github/index.js";
import { runKozmic } from "../support/kozmic-cli.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { startAndStop } from "../support/start-command.js";

const key = generateAppKey();
const TAG_KEY = "0123456789abcdef0123456789abcdef";

describe("the fleet registry as a job sees it: never open to clients without credentials", () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-registry-exposure-"));
  let open: TestRegistry;
  let locked: TestRegistry;
  before(async () => {
    [open, locked] = await Promise.all([startRegistry(), startRegistry({ htpasswd: true })]);
  });
  after(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (registry: TestRegistry, more: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    APP_ID: "33",
    PRIVATE_KEY: key.privateKeyPem,
    GHE_HOST: "127.0.0.1:9",
    GHE_PROTOCOL: "http",
    KOZMIC_DATA_DIR: join(dir, "data"),
    KOZMIC_RUNNER_NAME: `exposure-${process.pid}`,
    KOZMIC_CACHE_REGISTRY: `${registry.host}/kozmic-cache`,
    ...more,
  });
  const registryLines = (stdout: string) =>
    stdout.split("\n").filter((line) => line.includes(" cache registry: "));

  it("a registry with htpasswd refuses an anonymous catalog and tag list", async () => {
    for (const path of ["/v2/_catalog", "/v2/kozmic-cache/tags/list"]) {
      const answer = await fetch(`http://${locked.host}${path}`);
      assert.equal(answer.status, 401, path);
    }
  });

  it("kozmic doctor says when the registry answers without credentials, and when tags are not keyed", async () => {
    const bad = await runKozmic(["doctor", "--no-probe"], { env: env(open) });
    assert.equal(bad.code, 1);
    assert.deepEqual(registryLines(bad.stdout), [
      "problem cache registry: KOZMIC_CACHE_REGISTRY_KEY is not set: cache tags are plain " +
        "hashes, which anyone who knows a repository's install inputs can compute; give every " +
        "runner the same secret (e.g. `openssl rand -hex 32`)",
      `problem cache registry: the cache registry ${open.host} answers GET /v2/_catalog and ` +
        "GET /v2/kozmic-cache/tags/list without credentials: any job that can reach it may " +
        "list and pull every repository's installs. Require credentials there (htpasswd or " +
        "token auth; `docker login` as the runner's user) or use ECR",
    ]);
    const good = await runKozmic(["doctor", "--no-probe"], {
      env: env(locked, { KOZMIC_CACHE_REGISTRY_KEY: TAG_KEY }),
    });
    assert.deepEqual(registryLines(good.stdout), [
      `ok      cache registry: ${locked.host} refuses clients without credentials; tags are keyed`,
    ]);
    const short = await runKozmic(["doctor", "--no-probe"], {
      env: env(locked, { KOZMIC_CACHE_REGISTRY_KEY: "short-secret" }),
    });
    assert.match(short.stdout, /KOZMIC_CACHE_REGISTRY_KEY must be at least 32 characters/);
    assert.doesNotMatch(short.stdout + short.stderr, /short-secret/);
  });

  it("kozmic runner warns at start when the registry answers without credentials", async () => {
    const { output: stderr } = await startAndStop(
      ["runner"],
      env(open, { KOZMIC_CACHE_REGISTRY_KEY: TAG_KEY }),
      /receiving jobs/,
    );
    assert.match(
      stderr,
      new RegExp(
        `runner exposure-\\d+/\\S+: the cache registry ${open.host} answers GET /v2/_catalog ` +
          "and GET /v2/kozmic-cache/tags/list without credentials",
      ),
    );
    assert.doesNotMatch(stderr, /KOZMIC_CACHE_REGISTRY_KEY is not set/);
    assert.doesNotMatch(stderr, new RegExp(TAG_KEY));
  });

  it("kozmic runner says at start when the engine lacks the network jobs get by default", async () => {
    const { output } = await startAndStop(["runner"], env(locked), /receiving jobs/);
    const hasBridge =
      spawnSync("docker", ["network", "inspect", "bridge"], { stdio: "ignore" }).status === 0;
    const warning =
      /runner exposure-\d+\/\S+: the Docker engine has no \\?"bridge\\?" network \(dockerd --bridge=none\?\), so jobs run without a network/;
    if (hasBridge) assert.doesNotMatch(output, warning);
    else assert.match(output, warning);
    const chosen = await startAndStop(
      ["runner"],
      env(locked, { KOZMIC_NETWORK: "none" }),
      /receiving jobs/,
    );
    assert.doesNotMatch(chosen.output, /network/);
  });
});
