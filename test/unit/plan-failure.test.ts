import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAfterFailure, DEFAULT_RETRY, isPermanent } from "../../src/planner/plan-failure.js";
import { derivedIds } from "../../src/planner/derived-ids.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";

const http = (status: number, message = "failed") => Object.assign(new Error(message), { status });

describe("what the planner does after a failure", () => {
  it("waits out GitHub's outages, rate limits and our own adapters' failures", () => {
    for (const error of [
      http(502),
      http(503),
      http(500),
      http(429),
      http(403, "You have exceeded a secondary rate limit"),
      http(403, "API rate limit exceeded for installation"),
      new Error("connect ECONNREFUSED 127.0.0.1:443"),
      new Error("SQS send failed: timeout"),
    ]) {
      assert.equal(decideAfterFailure(error, 1).action, "retry", error.message);
      assert.equal(isPermanent(error), false);
    }
  });

  it("drops what retrying cannot change: gone, uninstalled, forbidden, refused", () => {
    for (const error of [
      http(404, "Not Found"),
      http(410),
      http(401, "Bad credentials"),
      http(403, "Resource not accessible by integration"),
      http(422, "Validation Failed"),
    ]) {
      const next = decideAfterFailure(error, 3);
      assert.equal(next.action, "drop");
      assert.match(next.why, new RegExp(`HTTP ${(error as { status: number }).status}`));
    }
  });

  it("doubles the wait per receive up to 5 minutes, and the queue's receives span over an hour", () => {
    const delays = Array.from({ length: PLAN_MAX_RECEIVES }, (_, i) => {
      const next = decideAfterFailure(http(502), i + 1);
      assert.equal(next.action, "retry");
      return next.action === "retry" ? next.delaySeconds : 0;
    });
    assert.deepEqual(delays.slice(0, 5), [2, 4, 8, 16, 32]);
    assert.equal(Math.max(...delays), DEFAULT_RETRY.maxSeconds);
    const total = delays.reduce((a, b) => a + b, 0);
    assert.ok(total >= 3600, `only ${total} s of retries before the dead-letter queue`);
  });
});

describe("derived ids", () => {
  it("are the same sequence for the same seed, UUID-shaped, and differ across seeds", () => {
    const a = derivedIds("commit:1:abc");
    const b = derivedIds("commit:1:abc");
    const first = [a(), a(), a()];
    assert.deepEqual(first, [b(), b(), b()]);
    assert.equal(new Set(first).size, 3);
    for (const id of first) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    assert.notEqual(derivedIds("commit:2:abc")(), first[0]);
  });
});
