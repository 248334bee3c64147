import assert from "node:assert/strict";
import { test } from "node:test";
import { watchJob } from "../../runner/worker/watch-job.js";
import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";

/** A call that answers after `ms`, counting how many are in flight at once. */
function slowCall<T>(ms: number, answer: T) {
  let inFlight = 0;
  const counts = { calls: 0, mostAtOnce: 0 };
  const call = async () => {
    counts.calls += 1;
    inFlight += 1;
    counts.mostAtOnce = Math.max(counts.mostAtOnce, inFlight);
    await new Promise((resolve) => setTimeout(resolve, ms));
    inFlight -= 1;
    return answer;
  };
  return { call, counts };
}

test("a slow store gets one heartbeat and one cancel poll at a time, and both go on", async () => {
  const renew = slowCall(150, undefined);
  const poll = slowCall(150, { cancelRequested: false });
  const extended: string[] = [];
  const store = { renewLease: renew.call, getJob: poll.call } as unknown as Store;
  const queue = {
    extendVisibility: (receipt: string) => {
      extended.push(receipt);
      return Promise.resolve();
    },
  } as unknown as Queue;
  const errors: unknown[] = [];
  const stop = watchJob({
    store,
    queue,
    jobId: "job-1",
    owner: "runner-a",
    receipt: () => "receipt-1",
    leaseMs: 10_000,
    heartbeatMs: 10,
    cancelPollMs: 10,
    visibilitySeconds: 30,
    onCancel: () => assert.fail("not cancelled"),
    onLeaseLost: () => assert.fail("the lease is not lost"),
    onError: (error) => errors.push(error),
  });
  // Until each has answered three times: with a 10 ms timer and 150 ms answers, a timer that
  // did not wait its turn would have about 15 calls in flight by then.
  while (renew.counts.calls < 3 || poll.counts.calls < 3 || extended.length < 2) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  stop();
  assert.equal(renew.counts.mostAtOnce, 1);
  assert.equal(poll.counts.mostAtOnce, 1);
  assert.deepEqual(errors, []);
});
