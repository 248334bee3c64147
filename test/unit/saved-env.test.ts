import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadSavedEnv } from "../../src/settings/saved-env.js";

const root = mkdtempSync(join(tmpdir(), "kozmic-saved-env-"));
after(() => rmSync(root, { recursive: true, force: true }));

function dataDir(name: string, text: string, mode: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, ".env"), text, { mode });
  chmodSync(join(dir, ".env"), mode);
  return dir;
}

test("what set-up saved fills the variables the environment leaves unset or blank; the environment wins", () => {
  const dir = dataDir(
    "saved",
    "# by set-up\nAPP_ID=41\nGHE_HOST=ghe.example.com\nLOG_LEVEL=debug\n",
    0o600,
  );
  const env: NodeJS.ProcessEnv = { KOZMIC_DATA_DIR: dir, APP_ID: "7", GHE_HOST: " " };
  assert.deepEqual(loadSavedEnv(env), { loaded: join(dir, ".env") });
  assert.equal(env.APP_ID, "7", "the environment wins");
  assert.equal(env.GHE_HOST, "ghe.example.com", "a blank variable counts as unset");
  assert.equal(env.LOG_LEVEL, "debug");
});

test("a .env others may read or write (as git checks one out), or a link, is never read", () => {
  const shipped = dataDir("shipped", "KOZMIC_ALLOW_HOST_NETWORK=true\n", 0o644);
  const env: NodeJS.ProcessEnv = { KOZMIC_DATA_DIR: shipped };
  const result = loadSavedEnv(env);
  assert.deepEqual(result, {
    refused: join(shipped, ".env"),
    reason: "mode 644: others may read or write it (set-up writes 600)",
  });
  assert.equal(env.KOZMIC_ALLOW_HOST_NETWORK, undefined);

  const linked = join(root, "linked");
  mkdirSync(linked);
  symlinkSync(join(shipped, ".env"), join(linked, ".env"));
  assert.deepEqual(loadSavedEnv({ KOZMIC_DATA_DIR: linked }), {
    refused: join(linked, ".env"),
    reason: "not a regular file",
  });
  assert.deepEqual(loadSavedEnv({ KOZMIC_DATA_DIR: join(root, "none") }), {
    absent: join(root, "none", ".env"),
  });
});
