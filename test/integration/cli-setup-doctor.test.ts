import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { freePort } from "../support/free-port.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { testServices } from "../support/services.js";

const services = testServices();

/** `kozmic <args>` as a user runs it: its exit code and what it printed. */
function kozmic(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, kozmicArgv(args), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const aws = {
  AWS_REGION: services.region,
  AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
  AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
};

/** The settings `kozmic setup` printed, as variables. */
function printedSettings(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("kozmic setup and kozmic doctor, on ElasticMQ, DynamoDB Local and the fake GitHub", () => {
  const name = `setup-${randomUUID().slice(0, 8)}`;
  const key = generateAppKey();
  let fake: FakeGitHub;
  let health: Server;
  let publicUrl: string;
  let created: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), "kozmic-doctor-"));

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 41, enterprise: true });
    // Where KOZMIC_PUBLIC_URL leads: a server answering /healthz as kozmic serve does.
    health = createServer((req, res) => {
      res.writeHead(req.url === "/healthz" ? 200 : 404).end("{}");
    });
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    publicUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
  });
  after(async () => {
    await fake.close();
    health.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("setup creates the queues and the table once, prints their settings, and says when nothing changed", async () => {
    const first = await kozmic(["setup", "--name", name], aws);
    assert.equal(first.code, 0, first.stderr);
    for (const line of [
      `created SQS queue ${name}-jobs-dead-letters`,
      `created SQS queue ${name}-jobs (dead-letters to ${name}-jobs-dead-letters after 5 receives)`,
      `created SQS queue ${name}-plans (dead-letters to ${name}-plans-dead-letters after 40 receives)`,
      `created DynamoDB table ${name} with TTL on expiresAt`,
    ]) {
      assert.ok(first.stderr.includes(`kozmic setup: ${line}\n`), `${line}\n${first.stderr}`);
    }
    created = printedSettings(first.stdout);
    assert.deepEqual(created, {
      AWS_REGION: services.region,
      KOZMIC_QUEUE_URL: `${services.sqsEndpoint}/000000000000/${name}-jobs`,
      KOZMIC_PLAN_QUEUE_URL: `${services.sqsEndpoint}/000000000000/${name}-plans`,
      KOZMIC_TABLE: name,
      KOZMIC_MAX_RECEIVES: "5",
    });

    const again = await kozmic(["setup", "--name", name], aws);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /nothing to change: the queues and the table were already set up/);
    assert.doesNotMatch(again.stderr, /kozmic setup: (created|changed)/);
    assert.deepEqual(printedSettings(again.stdout), created);
  });

  it("setup reports a queue with another redrive policy, and changes it only with --fix", async () => {
    const other = `${name}-other`;
    assert.equal((await kozmic(["setup", "--name", other], aws)).code, 0);
    const differs = await kozmic(["setup", "--name", other], { ...aws, KOZMIC_MAX_RECEIVES: "7" });
    assert.equal(differs.code, 1);
    assert.match(
      differs.stderr,
      new RegExp(
        `problem: SQS queue ${other}-jobs exists but it dead-letters after 5 receives; Kozmic expects ` +
          `it to be dead-letters to ${other}-jobs-dead-letters after 7 receives \\(KOZMIC_MAX_RECEIVES=7\\)\\. ` +
          "Left unchanged: run kozmic setup --fix",
      ),
    );
    const fixed = await kozmic(["setup", "--name", other, "--fix"], {
      ...aws,
      KOZMIC_MAX_RECEIVES: "7",
    });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stderr, new RegExp(`changed the redrive policy of SQS queue ${other}-jobs`));
    const bad = await kozmic(["setup", "--name", "no spaces"], aws);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"no spaces-jobs" is not a usable SQS queue name/);
  });

  /** A runner host's environment on what setup created; `more` breaks one thing. */
  const hostEnv = (more: Record<string, string | undefined> = {}) => ({
    ...aws,
    ...created,
    APP_ID: "41",
    PRIVATE_KEY: key.privateKeyPem,
    GHE_HOST: fake.host,
    GHE_PROTOCOL: "http",
    KOZMIC_PUBLIC_URL: publicUrl,
    KOZMIC_DATA_DIR: join(dir, "data"),
    // Chosen on purpose: this test machine's engine may have no bridge (see below).
    KOZMIC_NETWORK: "none",
    ...more,
  });
  // --no-probe: a probe would pull busybox:stable from Docker Hub where the engine has a bridge.
  const doctor = (more: Record<string, string | undefined> = {}) =>
    kozmic(["doctor", "--no-probe"], hostEnv(more));
  const lineOf = (stdout: string, check: string) =>
    stdout
      .split("\n")
      .find((line) => line.includes(` ${check}: `) || line.startsWith(`ok      ${check}:`)) ?? "";

  it("doctor passes every check on a good host", async () => {
    const result = await doctor();
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const check of [
      "settings",
      "docker",
      "job network",
      "runner name",
      "job queue",
      "redrive policy",
      "plan queue",
      "table",
      "github app",
      "public URL",
    ]) {
      assert.match(lineOf(result.stdout, check), /^ok {6}/, `${check}:\n${result.stdout}`);
    }
    assert.match(lineOf(result.stdout, "docker"), /Docker \d+\.\d+\S* \(API \d+\.\d+\)/);
    assert.match(lineOf(result.stdout, "github app"), /knows App kozmic \(id 41\)/);
    assert.deepEqual(fake.violations, []);
  });

  it("doctor names each broken setting with what to do, and exits 1", async () => {
    const otherKey = generateAppKey();
    const deadPort = await freePort();
    const cases: {
      what: string;
      env: Record<string, string | undefined>;
      check: string;
      says: RegExp;
    }[] = [
      {
        what: "Docker not answering",
        env: { DOCKER_HOST: `unix://${join(dir, "no-docker.sock")}` },
        check: "docker",
        says: /cannot reach Docker: connect ENOENT .*no-docker\.sock.*: start Docker, or set DOCKER_HOST/,
      },
      {
        what: "a KOZMIC_NETWORK the engine does not have",
        env: { KOZMIC_NETWORK: `kozmic-no-net-${name}` },
        check: "job network",
        says: /KOZMIC_NETWORK=kozmic-no-net-\S+: the Docker engine has no such network, so every job fails to start: create it \(docker network create /,
      },
      {
        what: "a queue URL naming no queue",
        env: { KOZMIC_QUEUE_URL: `${services.sqsEndpoint}/000000000000/${name}-missing` },
        check: "job queue",
        says: /KOZMIC_QUEUE_URL: no queue at .*-missing: run kozmic setup to create it/,
      },
      {
        what: "a table that does not exist",
        env: { KOZMIC_TABLE: `${name}-missing` },
        check: "table",
        says: /KOZMIC_TABLE: no DynamoDB table .*-missing in us-east-1: run kozmic setup/,
      },
      {
        what: "KOZMIC_MAX_RECEIVES unlike the redrive policy",
        env: { KOZMIC_MAX_RECEIVES: "9" },
        check: "redrive policy",
        says: /KOZMIC_MAX_RECEIVES is 9 but the SQS job queue .* dead-letters a message after 5 receives.*Set KOZMIC_MAX_RECEIVES=5/,
      },
      {
        what: "a private key of another App",
        env: { PRIVATE_KEY: otherKey.privateKeyPem },
        check: "github app",
        says: /refused the App's credentials \(HTTP 401: the JWT signature does not match.*\): APP_ID \(41\) must be the App ID/,
      },
      {
        what: "the wrong App ID",
        env: { APP_ID: "42" },
        check: "github app",
        says: /refused the App's credentials \(HTTP 401: the JWT is for another app\): APP_ID \(42\)/,
      },
      {
        what: "a public URL nothing answers at",
        env: { KOZMIC_PUBLIC_URL: `http://127.0.0.1:${deadPort}` },
        check: "public URL",
        says: /\/healthz does not answer \(ECONNREFUSED\): check that kozmic serve runs/,
      },
    ];
    const results = await Promise.all(cases.map((c) => doctor(c.env)));
    cases.forEach((c, i) => {
      const result = results[i]!;
      assert.equal(result.code, 1, `${c.what}: ${result.stdout}`);
      const line = lineOf(result.stdout, c.check);
      assert.match(line, /^problem /, `${c.what}:\n${result.stdout}`);
      assert.match(line, c.says, c.what);
      const problems = result.stdout.split("\n").filter((l) => l.startsWith("problem"));
      assert.equal(problems.length, 1, `${c.what}: only its own check fails:\n${result.stdout}`);
    });
    assert.ok(!results.some((r) => r.stdout.includes("BEGIN")), "no key is ever printed");
  });

  it("doctor says whether the engine has the bridge jobs get by default", async () => {
    const result = await doctor({ KOZMIC_NETWORK: undefined });
    const hasBridge =
      spawnSync("docker", ["network", "inspect", "bridge"], { stdio: "ignore" }).status === 0;
    assert.match(
      lineOf(result.stdout, "job network"),
      hasBridge
        ? /^ok {6}job network: bridge \(Docker's default; KOZMIC_NETWORK chooses another\)$/
        : /^problem job network: the Docker engine has no "bridge" network \(dockerd --bridge=none\?\), so jobs run without a network .*: give dockerd its default bridge, or set KOZMIC_NETWORK/,
    );
    assert.match(
      lineOf((await doctor()).stdout, "job network"),
      /^ok .*none \(KOZMIC_NETWORK\): jobs have no network/,
    );
  });

  it("doctor names a runner on another host that uses this runner's name on the engine", async () => {
    const runnerName = `kozmic-doctor-${name}`;
    const image = `kozmic-test/doctor-name-${name}`;
    ensureBusyboxImage(image);
    const container = `kozmic-doctor-other-host-${name}`;
    const created = spawnSync("docker", [
      "create",
      "--name",
      container,
      "--label",
      `kozmic.runner=${runnerName}`,
      "--label",
      "kozmic.runner.host=build-7.example",
      image,
      "true",
    ]);
    assert.equal(created.status, 0, String(created.stderr));
    try {
      const result = await doctor({ KOZMIC_RUNNER_NAME: runnerName });
      assert.equal(result.code, 1, result.stdout);
      assert.match(
        lineOf(result.stdout, "runner name"),
        new RegExp(
          `^problem runner name: ${runnerName}: containers of a runner with this name on host build-7\\.example use this Docker engine: .*its own KOZMIC_RUNNER_NAME`,
        ),
      );
      const alone = await doctor({ KOZMIC_RUNNER_NAME: `${runnerName}-alone` });
      assert.match(
        lineOf(alone.stdout, "runner name"),
        /^ok {6}runner name: \S+-alone; no runner on another host uses it on this engine$/,
      );
    } finally {
      spawnSync("docker", ["rm", "-f", container]);
      removeImages(image);
    }
  });

  it("doctor on embedded defaults checks the data directory instead of SQS and DynamoDB", async () => {
    const embedded = {
      KOZMIC_QUEUE_URL: undefined,
      KOZMIC_PLAN_QUEUE_URL: undefined,
      KOZMIC_TABLE: undefined,
    };
    const good = await doctor(embedded);
    assert.equal(good.code, 0, good.stdout);
    assert.match(lineOf(good.stdout, "data directory"), /^ok .*can be created/);
    assert.doesNotMatch(good.stdout, /job queue|table:/);
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const bad = await doctor({ ...embedded, KOZMIC_DATA_DIR: join(file, "data") });
    assert.equal(bad.code, 1);
    assert.match(
      lineOf(bad.stdout, "data directory"),
      /^problem .*a-file is a file, not a directory: set KOZMIC_DATA_DIR to a directory/,
    );
  });
});
