import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cacheInputLabels,
  cacheInputsFromLabels,
  explainCacheMiss,
  type CacheInputs,
} from "../../src/core/explain-cache-miss.js";

const before: CacheInputs = {
  baseImageId: "sha256:old",
  baseImageRef: "python:3.12",
  installDigest: "i1",
  trackedFiles: [
    { path: "requirements.txt", digest: "r1" },
    { path: "gone.txt", digest: "g1" },
    { path: "later.txt", digest: "missing" },
  ],
};

test("the first install says so", () => {
  assert.deepEqual(explainCacheMiss(undefined, before), ["no cached install yet for this hook"]);
});

test("each difference is named: base image with both IDs, script, each tracked file", () => {
  const now: CacheInputs = {
    baseImageId: "sha256:new",
    baseImageRef: "python:3.12",
    installDigest: "i2",
    trackedFiles: [
      { path: "requirements.txt", digest: "r2" },
      { path: "gone.txt", digest: "missing" },
      { path: "later.txt", digest: "l1" },
      { path: "new/glob-match.txt", digest: "n1" },
    ],
  };
  assert.deepEqual(explainCacheMiss(before, now), [
    "base image: python:3.12 now points to another image (sha256:old → sha256:new)",
    "the install script changed",
    "tracked file appeared: later.txt",
    "tracked file appeared: new/glob-match.txt",
    "tracked file changed: requirements.txt",
    "tracked file disappeared: gone.txt",
  ]);
  assert.deepEqual(explainCacheMiss(before, { ...before, baseImageRef: "python:3.13" }), [
    "the cache key's format changed since the cached install was made",
  ]);
  assert.deepEqual(
    explainCacheMiss(before, { ...before, baseImageRef: "python:3.13", baseImageId: "sha256:b" }),
    ["base image: image changed from python:3.12 to python:3.13 (sha256:old → sha256:b)"],
  );
});

test("a glob match that vanished is named; a file missing both times is not", () => {
  const now = { ...before, trackedFiles: [{ path: "requirements.txt", digest: "r1" }] };
  assert.deepEqual(explainCacheMiss(before, now), ["tracked file disappeared: gone.txt"]);
});

test("long lists are cut with a count", () => {
  const many = Array.from({ length: 25 }, (_, i) => ({ path: `f${100 + i}`, digest: "x" }));
  const reasons = explainCacheMiss(
    { ...before, trackedFiles: [] },
    { ...before, trackedFiles: many },
  );
  assert.equal(reasons.length, 21);
  assert.equal(reasons[20], "and 5 more tracked files");
});

test("inputs survive a round trip through labels; broken labels read as unknown", () => {
  assert.deepEqual(cacheInputsFromLabels(cacheInputLabels(before)), before);
  assert.equal(cacheInputsFromLabels({}), undefined);
  assert.equal(
    cacheInputsFromLabels({ ...cacheInputLabels(before), "kozmic.cache.files": "{" }),
    undefined,
  );
  assert.equal(
    cacheInputsFromLabels({ ...cacheInputLabels(before), "kozmic.cache.files": "[[1,2]]" }),
    undefined,
  );
});
