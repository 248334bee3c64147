import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConflictError, InfrastructureError } from "../../src/core/errors.js";
import { retryTransient } from "../../runner/worker/store-retry.js";

const quick = { attempts: 4, baseMs: 1, maxMs: 2 };

/** A call that fails `failures` times with `error`, then answers "done"; counts its tries. */
function flaky(failures: number, error: () => Error) {
  const calls = { n: 0 };
  const call = async () => {
    calls.n += 1;
    if (calls.n <= failures) throw error();
    return "done";
  };
  return { call, calls };
}

describe("a store call of a job's life tried again", () => {
  it("a transient failure (throttling past the SDK's retries) is tried again until it answers", async () => {
    const { call, calls } = flaky(3, () => new InfrastructureError("throttled"));
    assert.equal(await retryTransient(call, quick), "done");
    assert.equal(calls.n, 4);
  });

  it("gives up after its tries with the last failure", async () => {
    const { call, calls } = flaky(9, () => new InfrastructureError("throttled"));
    await assert.rejects(retryTransient(call, quick), /throttled/);
    assert.equal(calls.n, 4);
  });

  it("a conflict (the job is not as expected) is an answer, never tried again", async () => {
    const { call, calls } = flaky(1, () => new ConflictError("another runner holds it"));
    await assert.rejects(retryTransient(call, quick), ConflictError);
    assert.equal(calls.n, 1);
  });

  it("stops trying once told to (the lease was lost)", async () => {
    const { call, calls } = flaky(9, () => new InfrastructureError("throttled"));
    await assert.rejects(
      retryTransient(call, quick, () => calls.n >= 2),
      /throttled/,
    );
    assert.equal(calls.n, 2);
  });
});
