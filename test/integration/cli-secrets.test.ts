import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

/** `kozmic secrets <args>` with `stdin` piped in: its exit code and what it printed. */
function kozmic(
  args: string[],
  env: Record<string, string | undefined>,
  stdin = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, kozmicArgv(["secrets", ...args]), {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const VALUE = "pypi-AgEIcHlwaS5vcmcCJDAwMDAw-operator-secret";

describe("kozmic secrets set|rm|ls|rotate-key, on the embedded store and the fake GitHub", () => {
  const key = generateAppKey();
  const dir = mkdtempSync(join(tmpdir(), "kozmic-secrets-cli-"));
  const secretsKey = randomBytes(32).toString("hex");
  let fake: FakeGitHub;
  let repoId: number;
  let env: Record<string, string>;

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 41, enterprise: true });
    repoId = fake.addRepository({ fullName: "octo/app", installationId: 9 }).id;
    env = {
      APP_ID: "41",
      PRIVATE_KEY: key.privateKeyPem,
      GHE_HOST: fake.host,
      GHE_PROTOCOL: "http",
      KOZMIC_DATA_DIR: join(dir, "data"),
      KOZMIC_SECRETS_KEY: secretsKey,
    };
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sets a value from standard input, lists names with who and when, never the value", async () => {
    const set = await kozmic(["set", "octo/app", "PYPI_TOKEN"], env, `${VALUE}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "set PYPI_TOKEN for octo/app\n");
    const ls = await kozmic(["ls", "octo/app"], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(
      ls.stdout,
      /^NAME +UPDATED BY +UPDATED\nPYPI_TOKEN +operator:\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/,
    );
    assert.equal((ls.stdout + set.stdout + set.stderr).includes(VALUE), false);
    assert.deepEqual(fake.violations, []);
  });

  it("refuses a value as an argument, a short value, and an unknown repository", async () => {
    const argument = await kozmic(["set", "octo/app", "TOKEN", VALUE], env);
    assert.equal(argument.code, 2);
    assert.match(argument.stderr, /a value is never an argument/);
    const short = await kozmic(["set", "octo/app", "PIN"], env, "1234\n");
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 6 characters/);
    const unknown = await kozmic(["ls", "octo/nope"], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /octo\/nope: no such repository has the GitHub App installed/);
    const noKey = await kozmic(["ls", "octo/app"], { ...env, KOZMIC_SECRETS_KEY: undefined });
    assert.equal(noKey.code, 1);
    assert.match(
      noKey.stderr,
      /repository secrets need a key on this host: set KOZMIC_SECRETS_KEY/,
    );
  });

  it("keeps only ciphertext: the store's files hold neither the value nor its base64", async () => {
    for (const file of readdirSync(join(dir, "data"))) {
      const bytes = readFileSync(join(dir, "data", file));
      assert.equal(bytes.includes(VALUE), false, file);
      assert.equal(bytes.includes(Buffer.from(VALUE).toString("base64")), false, file);
    }
    const store = openEmbeddedStore({ dataDir: join(dir, "data"), retention: false });
    const [record] = await store.listSecrets(repoId);
    await store.close();
    assert.equal(record?.name, "PYPI_TOKEN");
    assert.match(record!.sealed, /^v1:/);
  });

  it("rotate-key re-wraps with a new key, after which the old key alone opens nothing", async () => {
    const newKey = randomBytes(32).toString("hex");
    const rotated = await kozmic(["rotate-key"], {
      ...env,
      KOZMIC_SECRETS_KEY: newKey,
      KOZMIC_SECRETS_PREVIOUS_KEY: secretsKey,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.stdout, "re-wrapped 1 data keys; 0 already used the current key\n");
    const withNew = await kozmic(
      ["set", "octo/app", "NPM_TOKEN"],
      { ...env, KOZMIC_SECRETS_KEY: newKey },
      "npm_secret_value",
    );
    assert.equal(withNew.code, 0, withNew.stderr);
    const withOld = await kozmic(["set", "octo/app", "OTHER"], env, "another-value");
    assert.equal(withOld.code, 3);
    assert.match(
      withOld.stderr,
      /wrapped by key local:[0-9a-f]{16}, which this process does not have/,
    );
  });

  it("rm removes a secret, and says so when there is none", async () => {
    const rm = await kozmic(["rm", "octo/app", "PYPI_TOKEN"], env);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, "removed PYPI_TOKEN from octo/app\n");
    const again = await kozmic(["rm", "octo/app", "PYPI_TOKEN"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /octo\/app has no secret PYPI_TOKEN/);
  });
});
