import { test } from "node:test";
import assert from "node:assert/strict";
import type { CacheEntry } from "../../runner/cache/list-cache.js";
import { planPrune } from "../../runner/cache/prune-cache.js";

const entry = (id: string, created: number, extra: Partial<CacheEntry> = {}): CacheEntry => ({
  imageId: id,
  key: `k-${id}`,
  repositoryId: "r1",
  hook: "test",
  scope: "trusted",
  size: 100,
  created,
  ...extra,
});

const ids = (entries: CacheEntry[]) => entries.map((e) => e.imageId).sort();

test("keeps the newest N per repository, hook and scope", () => {
  const entries = [
    entry("a", 1),
    entry("b", 2),
    entry("c", 3),
    entry("d", 1, { repositoryId: "r2" }),
    entry("e", 1, { scope: "untrusted" }),
  ];
  assert.deepEqual(ids(planPrune(entries, { keep: 2 }, new Set())), ["a"]);
});

test("recent use counts as newer than creation", () => {
  const entries = [entry("a", 1, { lastUsed: 10 }), entry("b", 2), entry("c", 3)];
  assert.deepEqual(ids(planPrune(entries, { keep: 2 }, new Set())), ["b"]);
});

test("a byte budget removes the least recently used first", () => {
  const entries = [entry("a", 1), entry("b", 2), entry("c", 3)];
  assert.deepEqual(ids(planPrune(entries, { maxBytes: 150 }, new Set())), ["a", "b"]);
});

test("an image a container uses is never removed", () => {
  const entries = [entry("a", 1), entry("b", 2), entry("c", 3)];
  assert.deepEqual(ids(planPrune(entries, { keep: 1 }, new Set(["a"]))), ["b"]);
  assert.deepEqual(ids(planPrune(entries, { maxBytes: 0 }, new Set(["b"]))), ["a", "c"]);
});
