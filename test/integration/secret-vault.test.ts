import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { InfrastructureError } from "../../src/core/errors.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { localKeyWrapper } from "../../src/secrets/local-key-wrapper.js";
import {
  InvalidSecretError,
  MissingSecretsError,
  SecretVault,
} from "../../src/secrets/secret-vault.js";

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function freshStore() {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-vault-"));
  dirs.push(dir);
  return { dir, store: openEmbeddedStore({ dataDir: dir, retention: false }) };
}

const VALUE = "pypi-AgEIcHlwaS5vcmc-very-secret-token";

describe("secret vault (envelope encryption over the embedded store)", () => {
  it("gives back what was set, lists names with who and when, never values", async () => {
    const { store } = freshStore();
    const vault = new SecretVault(store, localKeyWrapper(randomBytes(32)));
    await vault.set(7, "PYPI_TOKEN", VALUE, "octocat", 1000);
    await vault.set(7, "DEPLOY_KEY", "-----BEGIN KEY-----\nabc\n", "operator:root", 2000);
    assert.deepEqual(await vault.list(7), [
      { name: "DEPLOY_KEY", updatedBy: "operator:root", updatedAt: 2000 },
      { name: "PYPI_TOKEN", updatedBy: "octocat", updatedAt: 1000 },
    ]);
    assert.deepEqual(await vault.read(7, ["PYPI_TOKEN"]), { PYPI_TOKEN: VALUE });
    await vault.set(7, "PYPI_TOKEN", "replaced-value", "hubot");
    assert.deepEqual(await vault.read(7, ["PYPI_TOKEN", "DEPLOY_KEY"]), {
      PYPI_TOKEN: "replaced-value",
      DEPLOY_KEY: "-----BEGIN KEY-----\nabc\n",
    });
    assert.equal(await vault.remove(7, "DEPLOY_KEY"), true);
    assert.equal(await vault.remove(7, "DEPLOY_KEY"), false);
    await store.close();
  });

  it("names every missing secret and refuses short values and bad names", async () => {
    const { store } = freshStore();
    const vault = new SecretVault(store, localKeyWrapper(randomBytes(32)));
    await vault.set(7, "PYPI_TOKEN", VALUE, "octocat");
    await assert.rejects(vault.read(7, ["PYPI_TOKEN", "NPM_TOKEN", "DEPLOY_KEY"]), (error) => {
      assert.ok(error instanceof MissingSecretsError);
      assert.deepEqual(error.names, ["NPM_TOKEN", "DEPLOY_KEY"]);
      assert.match(error.message, /secrets NPM_TOKEN, DEPLOY_KEY are not set/);
      return true;
    });
    await assert.rejects(vault.read(8, ["PYPI_TOKEN"]), MissingSecretsError);
    await assert.rejects(vault.set(7, "SHORT", "12345", "octocat"), /at least 6 characters/);
    await assert.rejects(vault.set(7, "1BAD", VALUE, "octocat"), InvalidSecretError);
    await assert.rejects(vault.set(7, "KOZMIC_X", VALUE, "octocat"), /Kozmic's own/);
    await store.close();
  });

  it("leaves nothing usable in the store file: no value, no data key, and another key opens nothing", async () => {
    const { dir, store } = freshStore();
    const key = randomBytes(32);
    const vault = new SecretVault(store, localKeyWrapper(key));
    await vault.set(7, "PYPI_TOKEN", VALUE, "octocat");
    await store.close();
    // Every byte the store wrote (database, WAL): neither the value nor its base64 is there.
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file));
      assert.equal(bytes.includes(VALUE), false, `${file} holds the value`);
      assert.equal(bytes.includes(Buffer.from(VALUE).toString("base64")), false);
    }
    const db = new Database(join(dir, "kozmic.db"), { readonly: true });
    const row = db.prepare("SELECT data FROM secrets").get() as { data: string };
    const keyRow = db.prepare("SELECT data FROM repository_keys").get() as { data: string };
    db.close();
    assert.match(JSON.parse(row.data).sealed, /^v1:/);
    assert.match(JSON.parse(keyRow.data).wrappedKey, /^v1:/);

    const reopened = openEmbeddedStore({ dataDir: dir, retention: false });
    const withOtherKey = new SecretVault(reopened, localKeyWrapper(randomBytes(32)));
    await assert.rejects(withOtherKey.read(7, ["PYPI_TOKEN"]), (error) => {
      assert.ok(error instanceof InfrastructureError);
      assert.match(
        error.message,
        /wrapped by key local:[0-9a-f]{16}, which this process does not have/,
      );
      assert.equal(error.message.includes(key.toString("hex")), false);
      return true;
    });
    await reopened.close();
  });

  it("refuses a value moved to another name or repository", async () => {
    const { store } = freshStore();
    const vault = new SecretVault(store, localKeyWrapper(randomBytes(32)));
    await vault.set(7, "PYPI_TOKEN", VALUE, "octocat");
    await vault.set(7, "OTHER", "harmless-value", "octocat");
    const [other, token] = await store.listSecrets(7);
    await store.putSecret({ ...other!, sealed: token!.sealed });
    await assert.rejects(vault.read(7, ["OTHER"]), /does not open/);
    await store.close();
  });

  it("rotate-key re-wraps every data key with the new key; values stay readable", async () => {
    const { store } = freshStore();
    const oldKey = localKeyWrapper(randomBytes(32));
    const newKey = localKeyWrapper(randomBytes(32));
    await new SecretVault(store, oldKey).set(7, "PYPI_TOKEN", VALUE, "octocat");
    await new SecretVault(store, oldKey).set(8, "NPM_TOKEN", "npm_abcdef123", "octocat");
    const rotating = new SecretVault(store, newKey, [oldKey]);
    assert.deepEqual(await rotating.rotate(), { rewrapped: 2, current: 0 });
    assert.deepEqual(await rotating.rotate(), { rewrapped: 0, current: 2 });
    const newOnly = new SecretVault(store, newKey);
    assert.deepEqual(await newOnly.read(7, ["PYPI_TOKEN"]), { PYPI_TOKEN: VALUE });
    assert.deepEqual(await newOnly.read(8, ["NPM_TOKEN"]), { NPM_TOKEN: "npm_abcdef123" });
    await assert.rejects(new SecretVault(store, oldKey).read(7, ["PYPI_TOKEN"]), /does not have/);
    await store.close();
  });
});
