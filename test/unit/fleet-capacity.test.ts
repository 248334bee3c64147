import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideCapacity, type FleetView } from "../../src/core/fleet-capacity.js";

const policy = { slotsPerHost: 2, idleMs: 10 * 60_000 };
const view = (v: Partial<FleetView>): FleetView => ({
  waiting: 0,
  running: 0,
  desired: 0,
  draining: 0,
  minHosts: 0,
  maxHosts: 10,
  ...v,
});
const T = 1_000_000;

describe("decideCapacity (the scaler's decision)", () => {
  it("starts hosts from zero for a burst, sized by jobs and slots per host", () => {
    assert.equal(decideCapacity(view({ waiting: 1 }), policy, T, undefined).desired, 1);
    assert.equal(decideCapacity(view({ waiting: 7 }), policy, T, undefined).desired, 4);
    const both = decideCapacity(view({ waiting: 3, running: 2 }), policy, T, undefined);
    assert.equal(both.desired, 3);
    assert.match(both.reason, /5 job\(s\) \(3 waiting, 2 running\) at 2 per host need 3 host/);
  });

  it("never asks for more than the group's maximum", () => {
    const burst = decideCapacity(view({ waiting: 500 }), policy, T, undefined);
    assert.equal(burst.desired, 10);
    assert.match(burst.reason, /capped at the maximum 10/);
    // A maximum lowered below the current capacity applies at once.
    assert.equal(
      decideCapacity(view({ desired: 8, maxHosts: 3, running: 16 }), policy, T, undefined).desired,
      3,
    );
  });

  it("keeps a steady fleet as it is", () => {
    const steady = decideCapacity(view({ waiting: 1, running: 5, desired: 3 }), policy, T, T - 5);
    assert.deepEqual([steady.desired, steady.surplusSince], [3, undefined]);
  });

  it("counts hosts still booting as capacity: no second host for the same jobs", () => {
    // Two jobs wait while the host started for them boots (desired 1, nothing received yet).
    assert.equal(decideCapacity(view({ waiting: 2, desired: 1 }), policy, T, undefined).desired, 1);
  });

  it("goes back to zero only after the idle time, and a job in between resets the wait", () => {
    const idle = view({ desired: 3 });
    const first = decideCapacity(idle, policy, T, undefined);
    assert.deepEqual([first.desired, first.surplusSince], [3, T]);
    const later = decideCapacity(idle, policy, T + policy.idleMs - 1, first.surplusSince);
    assert.deepEqual([later.desired, later.surplusSince], [3, T]);
    const done = decideCapacity(idle, policy, T + policy.idleMs, later.surplusSince);
    assert.deepEqual([done.desired, done.surplusSince], [0, undefined]);

    // A push in the middle: the surplus is gone, and the wait starts over after it.
    const busy = decideCapacity(view({ desired: 3, running: 6 }), policy, T + 60_000, T);
    assert.deepEqual([busy.desired, busy.surplusSince], [3, undefined]);
    const again = decideCapacity(idle, policy, T + policy.idleMs, busy.surplusSince);
    assert.deepEqual([again.desired, again.surplusSince], [3, T + policy.idleMs]);
  });

  it("shrinks to the hosts still needed, not below, and never below MinSize", () => {
    const shrink = decideCapacity(view({ desired: 5, running: 3 }), policy, T + policy.idleMs, T);
    assert.equal(shrink.desired, 2);
    const warm = decideCapacity(view({ desired: 3, minHosts: 1 }), policy, T + policy.idleMs, T);
    assert.equal(warm.desired, 1);
    assert.equal(decideCapacity(view({ minHosts: 1 }), policy, T, undefined).desired, 1);
  });

  it("starts no host for jobs a draining host is finishing, but does for jobs it hands back", () => {
    // The only host was chosen for scale-in and finishes its two jobs.
    const finishing = decideCapacity(view({ running: 2, draining: 1 }), policy, T, undefined);
    assert.equal(finishing.desired, 0);
    assert.match(finishing.reason, /2 on draining hosts/);
    // It ran out of time and handed them back: they wait again, and a host starts.
    assert.equal(
      decideCapacity(view({ waiting: 2, draining: 1 }), policy, T, undefined).desired,
      1,
    );
    // More running than the draining hosts could hold: the rest run on hosts in service.
    assert.equal(
      decideCapacity(view({ running: 5, draining: 1, desired: 2 }), policy, T, undefined).desired,
      2,
    );
  });

  it("treats a nonsense slot count as one slot per host", () => {
    assert.equal(
      decideCapacity(view({ waiting: 3 }), { ...policy, slotsPerHost: 0 }, T, undefined).desired,
      3,
    );
  });
});
