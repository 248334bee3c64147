import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decideOnDemandShare,
  isSpotShortage,
  type LaunchActivity,
} from "../../src/core/spot-fallback.js";

const MINUTE = 60_000;
const T = Date.parse("2026-12-07T06:00:00Z");
const policy = { configuredPercent: 0, holdMs: 30 * MINUTE, lookbackMs: 10 * MINUTE };
// The words EC2 Auto Scaling puts in a failed launch's StatusMessage.
const noSpot: LaunchActivity = {
  at: T - 2 * MINUTE,
  failed: true,
  message:
    "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.",
};

describe("on-demand fallback while spot is short (the scaler's decision)", () => {
  it("knows a spot shortage from other failed launches", () => {
    assert.equal(isSpotShortage(noSpot), true);
    assert.equal(
      isSpotShortage({
        ...noSpot,
        message:
          "Could not launch Spot Instances. MaxSpotInstanceCountExceeded - Max spot instance count exceeded.",
      }),
      true,
    );
    assert.equal(isSpotShortage({ ...noSpot, failed: false }), false, "a launch that worked");
    assert.equal(
      isSpotShortage({
        ...noSpot,
        message:
          "Launching a new EC2 instance. Status Reason: The image id '[ami-1]' does not exist.",
      }),
      false,
      "a broken launch template is not fixed by on-demand hosts",
    );
    assert.equal(
      isSpotShortage({
        ...noSpot,
        message: "InsufficientInstanceCapacity for On-Demand m7i.large",
      }),
      false,
      "an on-demand shortage is not a reason to leave spot",
    );
  });

  it("goes all on-demand at the first shortage and stays for the hold after the last one", () => {
    const first = decideOnDemandShare([noSpot], 0, policy, T, undefined);
    assert.equal(first.onDemandPercent, 100);
    assert.equal(first.until, noSpot.at + 30 * MINUTE);
    assert.match(first.reason, /spot capacity short .*on-demand hosts until 2026-12-07T06:28:00/);
    // Minutes later the failed launch has left the lookback; the tag still holds.
    const later = decideOnDemandShare([noSpot], 100, policy, T + 20 * MINUTE, first.until);
    assert.deepEqual([later.onDemandPercent, later.until], [100, first.until]);
    // A newer shortage moves the end further out.
    const again = { ...noSpot, at: T + 25 * MINUTE };
    const extended = decideOnDemandShare(
      [noSpot, again],
      100,
      policy,
      T + 26 * MINUTE,
      first.until,
    );
    assert.equal(extended.until, again.at + 30 * MINUTE);
  });

  it("goes back to the configured share once the hold is over, and says why", () => {
    const back = decideOnDemandShare(
      [noSpot],
      100,
      policy,
      noSpot.at + 31 * MINUTE,
      noSpot.at + 30 * MINUTE,
    );
    assert.deepEqual([back.onDemandPercent, back.until], [0, undefined]);
    assert.match(back.reason, /no spot shortage for 30 min: back to 0 % on-demand/);
    const steady = decideOnDemandShare([], 0, policy, T, undefined);
    assert.deepEqual([steady.onDemandPercent, steady.until], [0, undefined]);
    assert.match(steady.reason, /as configured/);
  });

  it("ignores old failures and leaves a group configured all on-demand alone", () => {
    const old = { ...noSpot, at: T - 11 * MINUTE };
    assert.equal(
      decideOnDemandShare([old], 20, { ...policy, configuredPercent: 20 }, T, undefined)
        .onDemandPercent,
      20,
    );
    const onDemand = decideOnDemandShare(
      [noSpot],
      100,
      { ...policy, configuredPercent: 100 },
      T,
      undefined,
    );
    assert.deepEqual([onDemand.onDemandPercent, onDemand.until], [100, undefined]);
  });
});
