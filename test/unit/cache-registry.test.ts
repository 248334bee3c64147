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
  it("show the scope and no repository id; keyed, nobody without the key can compute them", () => {
    const plain = registryTag("123456", "trusted", KEY);
    const keyed = registryTag("123456", "trusted", KEY, "k".repeat(32));
    for (const tag of [plain, keyed]) {
      assert.match(tag, /^trusted-[0-9a-f]{64}$/);
      assert.doesNotMatch(tag, /123456/);
    }
    assert.notEqual(keyed, plain);
    assert.notEqual(keyed, registryTag("123456", "trusted", KEY, "j".repeat(32)));
    assert.match(registryTag("123456", "untrusted", KEY, "k".repeat(32)), /^untrusted-/);
    assert.equal(
      registryImageRef(
        { ...parseCacheRegistry("127.0.0.1:5000/kc"), tagKey: "k".repeat(32) },
        "123456",
        "trusted",
        KEY,
      ),
      `127.0.0.1:5000/kc:${keyed}`,
    );
  });

  it("differ for every repository, scope and key", () => {
    const tags = [
      registryTag("1", "trusted", KEY),
      registryTag("2", "trusted", KEY),
      registryTag("1", "untrusted", KEY),
      registryTag("1", "trusted", "b".repeat(64)),
    ];
    assert.equal(new Set(tags.map((t) => t.replace(/^\w+-/, ""))).size, tags.length);
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
