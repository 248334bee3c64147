import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCacheRegistry } from "../../src/core/cache-registry.js";
import {
  dockerConfigCredentials,
  ecrCredentials,
} from "../../runner/cache/registry-credentials.js";

const dir = mkdtempSync(join(tmpdir(), "kozmic-docker-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function configWith(name: string, config: unknown): string {
  const configDir = join(dir, name);
  mkdirSync(configDir);
  writeFileSync(join(configDir, "config.json"), JSON.stringify(config));
  return configDir;
}

describe("Docker's config auths", () => {
  it("finds the registry's entry however docker login keyed it", async () => {
    const auth = Buffer.from("ci:s3cret:x").toString("base64");
    const configDir = configWith("keys", {
      auths: { "https://r.example.com/v1/": { auth }, "other.example.com": { auth: "eDp5" } },
    });
    assert.deepEqual(await dockerConfigCredentials("r.example.com", configDir).get(), {
      username: "ci",
      password: "s3cret:x",
      serveraddress: "r.example.com",
    });
    assert.equal(await dockerConfigCredentials("r.example.com:5000", configDir).get(), undefined);
  });

  it("is anonymous without a config file, and says which file is broken", async () => {
    assert.equal(
      await dockerConfigCredentials("r.example.com", join(dir, "none")).get(),
      undefined,
    );
    const broken = join(dir, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "config.json"), "{");
    await assert.rejects(
      dockerConfigCredentials("r.example.com", broken).get(),
      new RegExp(`cannot read ${join(broken, "config.json")}`),
    );
    const helperOnly = configWith("helper", { auths: { "r.example.com": {} } });
    await assert.rejects(
      dockerConfigCredentials("r.example.com", helperOnly).get(),
      /the auths entry of r.example.com has no user:password/,
    );
  });
});

describe("ECR credentials", () => {
  const registry = parseCacheRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com/kozmic-cache");
  const ecr = { ...registry, ecr: registry.ecr! };

  it("fetch a token once, reuse it, and fetch again before it expires", async () => {
    let now = 0;
    const asked: string[] = [];
    const credentials = ecrCredentials(ecr, {
      now: () => now,
      fetch: async (region) => {
        asked.push(region);
        return {
          username: "AWS",
          password: `token-${asked.length}`,
          expiresAt: now + 12 * 3600_000,
        };
      },
    });
    const first = await Promise.all([credentials.get(), credentials.get()]);
    assert.deepEqual(asked, ["eu-west-1"], "one request for callers at once");
    assert.deepEqual(first[0], {
      username: "AWS",
      password: "token-1",
      serveraddress: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    });
    now = 11 * 3600_000;
    assert.equal((await credentials.get())?.password, "token-1");
    now = 11.6 * 3600_000;
    assert.equal((await credentials.get())?.password, "token-2");
    assert.equal(credentials.source, "ECR GetAuthorizationToken in eu-west-1");
  });

  it("pass on why ECR refused, and try again on the next call", async () => {
    let fail = true;
    const credentials = ecrCredentials(ecr, {
      fetch: async () => {
        if (fail)
          throw new Error(
            "AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken",
          );
        return { username: "AWS", password: "ok", expiresAt: Date.now() + 3600_000 * 12 };
      },
    });
    await assert.rejects(credentials.get(), /ecr:GetAuthorizationToken/);
    fail = false;
    assert.equal((await credentials.get())?.password, "ok");
  });
});
