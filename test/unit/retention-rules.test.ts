import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildExpiresAt,
  isExpired,
  pauseAfterBatch,
  takeBuildsWithinBudget,
} from "../../src/store/retention-rules.js";

const DAY_S = 86_400;

test("a record has expired once the clock reaches its expiry second, never without one", () => {
  assert.equal(isExpired(1000, 999_999), false);
  assert.equal(isExpired(1000, 1_000_000), true, "expires_at <= now, as recordDelivery reads it");
  assert.equal(isExpired(1000, 5_000_000), true);
  assert.equal(isExpired(null, Number.MAX_SAFE_INTEGER), false);
  assert.equal(isExpired(undefined, Number.MAX_SAFE_INTEGER), false);
});

test("a build never expires while one of its jobs is queued or running", () => {
  const ended = { status: "completed" as const, updatedAt: 5_000_000 };
  for (const status of ["queued", "running"] as const) {
    assert.equal(buildExpiresAt(1000, [ended, { status, updatedAt: 2000 }], DAY_S), null);
  }
});

test("a build expires retention after its last job ended, or after its creation without jobs", () => {
  const jobs = [
    { status: "completed" as const, updatedAt: 7_000_500 },
    { status: "errored" as const, updatedAt: 9_000_999 },
  ];
  assert.equal(buildExpiresAt(1000, jobs, DAY_S), 9000 + DAY_S);
  assert.equal(buildExpiresAt(4_000_000, [], 60), 4000 + 60);
  assert.equal(
    isExpired(buildExpiresAt(1000, jobs, 60), (9000 + 60) * 1000),
    true,
    "the same cutoff rule as log chunks and deliveries",
  );
});

test("a delete batch takes builds while they and their jobs fit the row budget", () => {
  const builds = [
    { id: "a", jobs: 3 },
    { id: "b", jobs: 4 },
    { id: "c", jobs: 1 },
  ];
  assert.deepEqual(takeBuildsWithinBudget(builds, 8), ["a"], "a (4 rows) + b (5 rows) > 8");
  assert.deepEqual(takeBuildsWithinBudget(builds, 9), ["a", "b"]);
  assert.deepEqual(takeBuildsWithinBudget(builds, 100), ["a", "b", "c"]);
  assert.deepEqual(
    takeBuildsWithinBudget([{ id: "huge", jobs: 500 }], 8),
    ["huge"],
    "one build always, or a big one would never go",
  );
  assert.deepEqual(takeBuildsWithinBudget([], 8), []);
});

test("the sweep pauses at least as long as a batch took, so it holds the lock half the time at most", () => {
  assert.equal(pauseAfterBatch(0.2), 5);
  assert.equal(pauseAfterBatch(12.3), 13);
  assert.equal(pauseAfterBatch(80), 80);
});
