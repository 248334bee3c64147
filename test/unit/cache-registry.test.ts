import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ecrHost,
  parseCacheRegistry,
  registryImageRef,
  registryTag,
} from "../../src/core/cache-registry.js";
import { decodeEcrToken, tokenNeedsRefresh } from "../../src/core/ecr-token.js";

const KEY = "a".repeat(64);

describe("KOZMIC_CACHE_REGISTRY", () => {
  it("names an ECR host's account and region, and no other host", () => {
    assert.deepEqual(ecrHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), {
      accountId: "123456789012",
      region: "eu-west-1",
    });
    assert.deepEqual(ecrHost("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"), {
      accountId: "123456789012",
      region: "us-gov-west-1",
    });
    assert.deepEqual(
      ecrHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")?.region,
      "cn-north-1",
    );
    for (const host of [
      "127.0.0.1:5000",
      "registry.example.com",
      "12345678901.dkr.ecr.eu-west-1.amazonaws.com",
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
      "public.ecr.aws",
    ])
      assert.equal(ecrHost(host), undefined, host);
  });

  it("parses host and repository, and says what a valid value looks like", () => {
    assert.deepEqual(parseCacheRegistry("127.0.0.1:5000/kozmic/cache"), {
      host: "127.0.0.1:5000",
      repository: "kozmic/cache",
    });
    assert.equal(
      parseCacheRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com/kozmic-cache").ecr?.region,
      "eu-west-1",
    );
    assert.throws(() => parseCacheRegistry("https://r.example.com/c"), /drop the scheme/);
    assert.throws(() => parseCacheRegistry("r.example.com"), /no repository after the host/);
    assert.throws(
      () => parseCacheRegistry("r.example.com/Cache"),
      /"Cache" is not a repository name/,
    );
    assert.throws(() => parseCacheRegistry("r.example.com/cache:v1"), /no tag/);
    assert.throws(
      () => parseCacheRegistry("r_x.example.com/cache"),
      /"r_x.example.com" is not a registry host/,
    );
  });
});

describe("registry tags", () => {
  it("put scope and repository first, so they stay apart by prefix", () => {
    assert.equal(registryTag("123456", "trusted", KEY), `trusted-123456-${KEY}`);
    assert.equal(registryTag("123456", "untrusted", KEY), `untrusted-123456-${KEY}`);
    assert.equal(
      registryImageRef(parseCacheRegistry("127.0.0.1:5000/kc"), "9", "trusted", KEY),
      `127.0.0.1:5000/kc:trusted-9-${KEY}`,
    );
  });

  it("hash a repository id that is not a plain short name, so no two ids share a tag", () => {
    const odd = ["Org/Repo", "org/repo", "x".repeat(41), `h${"0".repeat(32)}`];
    const tags = odd.map((id) => registryTag(id, "untrusted", KEY));
    assert.equal(new Set(tags).size, odd.length);
    for (const tag of tags) {
      assert.match(tag, /^untrusted-h[0-9a-f]{32}-a{64}$/);
      assert.ok(tag.length <= 128);
    }
  });

  it("refuse what is not a cache key", () => {
    assert.throws(() => registryTag("1", "trusted", "latest"), /not a cache key: latest/);
  });
});

describe("ECR tokens", () => {
  it("decode to Docker credentials", () => {
    const token = Buffer.from("AWS:pa:ss").toString("base64");
    assert.deepEqual(decodeEcrToken(token, 5), {
      username: "AWS",
      password: "pa:ss",
      expiresAt: 5,
    });
    assert.throws(
      () => decodeEcrToken(Buffer.from("nocolon").toString("base64"), 5),
      /not base64 of user:password/,
    );
  });

  it("are fetched again half an hour before they expire", () => {
    const token = { username: "AWS", password: "p", expiresAt: 12 * 3600_000 };
    assert.equal(tokenNeedsRefresh(undefined, 0), true);
    assert.equal(tokenNeedsRefresh(token, 0), false);
    assert.equal(tokenNeedsRefresh(token, 11.5 * 3600_000 - 1), false);
    assert.equal(tokenNeedsRefresh(token, 11.5 * 3600_000), true);
  });
});
