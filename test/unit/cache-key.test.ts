import { test } from "node:test";
import assert from "node:assert/strict";
import { computeCacheKey, type CacheKeyInput } from "../../src/core/cache-key.js";

const base: CacheKeyInput = {
  baseImageId: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  installScript: "apk add curl",
  trackedFiles: [
    { path: "package-lock.json", digest: "a".repeat(64) },
    { path: "deps.txt", digest: "missing" },
  ],
  repositoryId: "github:42",
  scope: "trusted",
};

test("golden digest is pinned so an accidental encoding change is caught", () => {
  assert.equal(computeCacheKey(base), GOLDEN);
});

test("an empty matrix keeps the key of a job without one; matrix key order does not matter", () => {
  assert.equal(computeCacheKey({ ...base, matrix: {} }), GOLDEN);
  assert.equal(
    computeCacheKey({ ...base, matrix: { a: "1", b: "2" } }),
    computeCacheKey({ ...base, matrix: { b: "2", a: "1" } }),
  );
});

test("tracked file order does not matter", () => {
  const reversed = { ...base, trackedFiles: [...base.trackedFiles].reverse() };
  assert.equal(computeCacheKey(reversed), computeCacheKey(base));
});

test("each input changes the key", () => {
  const variants: CacheKeyInput[] = [
    { ...base, baseImageId: base.baseImageId.replace(/1$/, "2") },
    { ...base, installScript: "apk add curl " },
    {
      ...base,
      trackedFiles: [{ path: "package-lock.json", digest: "b".repeat(64) }, base.trackedFiles[1]!],
    },
    {
      ...base,
      trackedFiles: [base.trackedFiles[0]!, { path: "deps.txt", digest: "c".repeat(64) }],
    },
    { ...base, trackedFiles: [base.trackedFiles[0]!] },
    {
      ...base,
      trackedFiles: [{ path: "package-lock.jsoN", digest: "a".repeat(64) }, base.trackedFiles[1]!],
    },
    { ...base, repositoryId: "github:43" },
    { ...base, scope: "untrusted", fork: "repo-7" },
    { ...base, scope: "untrusted", fork: "repo-8" },
    { ...base, matrix: { python: "3.12" } },
    { ...base, matrix: { python: "3.11" } },
    { ...base, matrix: { python: "3.11", db: "mysql" } },
  ];
  const keys = new Set([computeCacheKey(base), ...variants.map(computeCacheKey)]);
  assert.equal(keys.size, variants.length + 1);
});

test("an untrusted key names its fork: two forks' installs never share a key", () => {
  assert.throws(() => computeCacheKey({ ...base, scope: "untrusted" }), /needs its fork/);
  assert.equal(computeCacheKey({ ...base, scope: "untrusted", fork: "repo-7" }), UNTRUSTED_GOLDEN);
  // A fork given to a trusted key changes nothing: trusted installs are the repository's.
  assert.equal(computeCacheKey({ ...base, fork: "repo-7" }), GOLDEN);
});

test("inputs cannot spill into each other", () => {
  const a = computeCacheKey({ ...base, installScript: "ab", repositoryId: "c" });
  const b = computeCacheKey({ ...base, installScript: "a", repositoryId: "bc" });
  assert.notEqual(a, b);
  const c = computeCacheKey({ ...base, trackedFiles: [{ path: 'a","b', digest: "x" }] });
  const d = computeCacheKey({ ...base, trackedFiles: [{ path: "a", digest: 'b","x' }] });
  assert.notEqual(c, d);
});

test("key is 64 lowercase hex characters", () => {
  assert.match(computeCacheKey(base), /^[0-9a-f]{64}$/);
});

// sha256 of the canonical JSON, computed independently with `printf ... | sha256sum`.
const GOLDEN = "6fd3cd71155cd044167fbe4d6258f3c457768eea6aba67b0ddfd750209e1950b";
// The same with "untrusted:repo-7" in place of "trusted".
const UNTRUSTED_GOLDEN = "119903f72aa0a90d166c882c51303395f2e1777ae6f2d13cba0bd466cbfcf542";
