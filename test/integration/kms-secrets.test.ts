import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InfrastructureError } from "../../src/core/errors.js";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/store/embedded-store.js";
import { openVault } from "../../src/secrets/open-vault.js";
import { SecretVault } from "../../src/secrets/secret-vault.js";
import { localKeyWrapper } from "../../src/secrets/local-key-wrapper.js";
import { FakeKms } from "../support/fake-kms.js";

const VALUE = "npm_kmsWrappedSecretValue42";

describe("secrets with KOZMIC_KMS_KEY_ID: data keys wrapped by KMS (a local KMS stand-in)", () => {
  let kms: FakeKms;
  let dir: string;
  let store: EmbeddedStore;
  const saved = { ...process.env };
  before(async () => {
    kms = await FakeKms.start();
    dir = mkdtempSync(join(tmpdir(), "kozmic-kms-"));
    store = openEmbeddedStore({ dataDir: dir, retention: false });
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
  });
  after(async () => {
    await store.close();
    await kms.close();
    rmSync(dir, { recursive: true, force: true });
    process.env = saved;
  });

  const kmsVault = async (previousKeys: Buffer[] = []) =>
    (await openVault(
      {
        kind: "kms",
        keyId: "alias/kozmic-secrets",
        region: "eu-west-1",
        endpoint: kms.url,
        previousKeys,
      },
      store,
    )) as SecretVault;

  it("wraps each repository's data key with KMS Encrypt, bound to the repository, and reads it back", async () => {
    const vault = await kmsVault();
    await vault.set(7, "NPM_TOKEN", VALUE, "octocat");
    assert.deepEqual(await vault.read(7, ["NPM_TOKEN"]), { NPM_TOKEN: VALUE });
    const encrypt = kms.requests.find((r) => r.target === "TrentService.Encrypt");
    assert.ok(encrypt?.signed, "SigV4-signed");
    assert.equal(encrypt.body.KeyId, "alias/kozmic-secrets");
    assert.deepEqual(encrypt.body.EncryptionContext, { kozmicRepository: "7" });
    assert.equal(Buffer.from(encrypt.body.Plaintext as string, "base64").length, 32);
    const key = await store.getRepositoryKey(7);
    assert.equal(key?.wrappedBy, "kms:alias/kozmic-secrets");
    assert.equal(JSON.stringify(await store.listSecrets(7)).includes(VALUE), false);

    // Repository 7's wrapped key given to repository 8 does not open: KMS checks the context.
    await vault.set(8, "NPM_TOKEN", "another-value", "octocat");
    const eight = (await store.getRepositoryKey(8))!;
    await store.putRepositoryKey({ ...eight, wrappedKey: key!.wrappedKey }, eight.wrappedKey);
    await assert.rejects(vault.read(8, ["NPM_TOKEN"]), /does not unwrap with key kms:/);
  });

  it("moves data keys from KOZMIC_SECRETS_KEY to KMS with rotate-key", async () => {
    const local = randomBytes(32);
    await new SecretVault(store, localKeyWrapper(local)).set(
      9,
      "DEPLOY_KEY",
      VALUE,
      "operator:root",
    );
    const vault = await kmsVault([local]);
    const { rewrapped } = await vault.rotate();
    assert.ok(rewrapped >= 1);
    assert.equal((await store.getRepositoryKey(9))?.wrappedBy, "kms:alias/kozmic-secrets");
    assert.deepEqual(await (await kmsVault()).read(9, ["DEPLOY_KEY"]), { DEPLOY_KEY: VALUE });
  });

  it("a KMS outage is an infrastructure error naming KMS and the key", async () => {
    kms.down = true;
    try {
      const vault = await kmsVault();
      await assert.rejects(vault.read(7, ["NPM_TOKEN"]), (error) => {
        assert.ok(error instanceof InfrastructureError);
        assert.match(error.message, /does not unwrap with key kms:alias\/kozmic-secrets/);
        assert.match(
          String((error.cause as Error).message),
          /KMS Decrypt with key alias\/kozmic-secrets failed/,
        );
        return true;
      });
    } finally {
      kms.down = false;
    }
  });
});
