import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { generateAppKey } from "../support/fake-github/index.js";
import { runKozmic } from "../support/kozmic-cli.js";
import { startAndStop } from "../support/start-command.js";

const key = generateAppKey();

/** Runner settings on embedded defaults; nothing here reaches GitHub before a job comes. */
const env = (dataDir: string) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  APP_ID: "31",
  PRIVATE_KEY: key.privateKeyPem,
  GHE_HOST: "127.0.0.1:9",
  GHE_PROTOCOL: "http",
  KOZMIC_DATA_DIR: dataDir,
  KOZMIC_RUNNER_NAME: `perm-${process.pid}`,
  KOZMIC_PUBLIC_URL: "https://ci.example.com",
});

/** `kozmic runner` under the usual umask 022: `whileReady` runs once it receives jobs. */
async function runRunner(dataDir: string, whileReady?: () => void): Promise<void> {
  const { code, output } = await startAndStop(["runner"], env(dataDir), /receiving jobs/, {
    umask: "022",
    ...(whileReady ? { whileReady } : {}),
  });
  assert.equal(code, 0, output);
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("the data directory is this user's alone (private logs, secrets, the App's key)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-data-perms-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("kozmic runner creates it 0700 and kozmic.db, -wal and -shm 0600, even under umask 022", async () => {
    const data = join(dir, "new", "data");
    await runRunner(data, () => {
      assert.equal(mode(data), "700");
      for (const file of ["kozmic.db", "kozmic.db-wal", "kozmic.db-shm"]) {
        assert.equal(mode(join(data, file)), "600", file);
      }
    });
  });

  it("kozmic doctor says when an existing one is readable by other users, and how to fix it", async () => {
    const data = join(dir, "old");
    await runRunner(data);
    const doctor = () => runKozmic(["doctor", "--no-probe"], { env: env(data) });
    const line = (stdout: string) =>
      stdout.split("\n").find((l) => l.includes(" data directory: ")) ?? "";
    const good = await doctor();
    assert.match(line(good.stdout), /^ok .*is writable and this user's alone/);

    // What an older Kozmic left behind: 0755 and 0644.
    chmodSync(data, 0o755);
    chmodSync(join(data, "kozmic.db"), 0o644);
    const bad = await doctor();
    assert.equal(bad.code, 1);
    assert.equal(
      line(bad.stdout),
      `problem data directory: KOZMIC_DATA_DIR ${data} (embedded queue and store): other users ` +
        `may reach ${data} (755), ${join(data, "kozmic.db")} (644) (private logs and secrets): ` +
        `run chmod -R go= ${data}`,
    );
  });
});
