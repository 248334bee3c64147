import { test } from "node:test";
import assert from "node:assert/strict";
import { canTransition, isFinal } from "../../src/core/job-state.js";

test("a queued job can start, finish or error", () => {
  assert.ok(canTransition("queued", "running"));
  assert.ok(canTransition("queued", "completed"));
  assert.ok(canTransition("queued", "errored"));
});

test("a running job may be given back to the queue", () => {
  assert.ok(canTransition("running", "queued"));
  assert.ok(canTransition("running", "completed"));
});

test("a finished job never changes again, so its check run ends once", () => {
  for (const to of ["queued", "running", "completed", "errored"] as const) {
    assert.equal(canTransition("completed", to), false);
    assert.equal(canTransition("errored", to), false);
  }
  assert.ok(isFinal("completed"));
  assert.ok(isFinal("errored"));
  assert.equal(isFinal("running"), false);
});
