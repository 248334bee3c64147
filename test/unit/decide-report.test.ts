import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { settlesNow } from "../../src/core/decide-report.js";

describe("who settles a finished job's message", () => {
  const now = 1_000_000;

  it("a job reported already: settled now (its message deleted)", () => {
    assert.equal(settlesNow({ reportedAt: now - 5, leaseExpiresAt: now + 20_000 }, now), true);
  });

  it("a job whose reporter's lease is live: left to it, however the message came back", () => {
    assert.equal(settlesNow({ leaseExpiresAt: now + 1 }, now), false);
    assert.equal(settlesNow({ leaseExpiresAt: now + 30_000 }, now), false);
  });

  it("a job whose reporter's lease lapsed (it died): its report is taken over", () => {
    assert.equal(settlesNow({ leaseExpiresAt: now }, now), true);
    assert.equal(settlesNow({ leaseExpiresAt: now - 1 }, now), true);
  });

  it("a job never leased (ended while queued): settled now", () => {
    assert.equal(settlesNow({}, now), true);
    assert.equal(settlesNow({ leaseExpiresAt: 0 }, now), true);
  });
});
