import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drainGraceMs, hostLeaving } from "../../src/core/host-leaving.js";
import { readSettings } from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";

describe("hostLeaving (instance metadata to a notice)", () => {
  it("stays while in service and without a spot notice", () => {
    assert.equal(hostLeaving("InService", undefined), undefined);
    assert.equal(hostLeaving(undefined, undefined), undefined, "not in an Auto Scaling group");
    assert.equal(hostLeaving("Warmed:Running", ""), undefined);
  });

  it("sees scale-in and spot interruption", () => {
    assert.deepEqual(hostLeaving("Terminated\n", undefined), { kind: "scale-in" });
    const time = "2026-12-07T03:00:00Z";
    assert.deepEqual(hostLeaving("InService", JSON.stringify({ action: "terminate", time })), {
      kind: "spot",
      action: "terminate",
      at: Date.parse(time),
    });
  });

  it("ignores a malformed spot notice instead of draining on noise", () => {
    for (const bad of ["{", "null", "[]", '{"action":"terminate"}', '{"action":1,"time":"x"}']) {
      assert.equal(hostLeaving("InService", bad), undefined, bad);
    }
    assert.equal(
      hostLeaving("InService", JSON.stringify({ action: "stop", time: "not a time" })),
      undefined,
    );
  });

  it("gives running jobs the hook's time or the spot notice's, less the margin, never below 0", () => {
    const seen = 1_000_000;
    assert.equal(drainGraceMs({ kind: "scale-in" }, seen, 600_000, 20_000), 580_000);
    const spot = { kind: "spot" as const, action: "terminate", at: seen + 120_000 };
    assert.equal(drainGraceMs(spot, seen, 600_000, 20_000), 100_000);
    assert.equal(drainGraceMs(spot, seen, 30_000, 20_000), 10_000);
    assert.equal(drainGraceMs({ ...spot, at: seen - 5_000 }, seen, 600_000, 20_000), 0);
  });
});

describe("the runner's host settings", () => {
  it("are off without a group, and have defaults with one", () => {
    assert.deepEqual(readSettings({}, ["host"]).host, {});
    assert.deepEqual(readSettings({ KOZMIC_AUTO_SCALING_GROUP: "Kozmic-runners" }, ["host"]).host, {
      drain: {
        groupName: "Kozmic-runners",
        hookName: "kozmic-drain",
        metadataUrl: "http://169.254.169.254",
        drainMs: 1_200_000,
        pollMs: 5_000,
      },
    });
  });

  it("refuse bad values by name", () => {
    assert.throws(
      () =>
        readSettings(
          {
            KOZMIC_AUTO_SCALING_GROUP: "g",
            KOZMIC_INSTANCE_METADATA_URL: "169.254.169.254",
            KOZMIC_DRAIN_TIME: "soon",
            KOZMIC_LIFECYCLE_HOOK: "a hook",
          },
          ["host"],
        ),
      (error: unknown) =>
        error instanceof SettingsError &&
        /KOZMIC_INSTANCE_METADATA_URL must be an http\(s\) URL/.test(error.message) &&
        /KOZMIC_DRAIN_TIME must be a duration/.test(error.message) &&
        /KOZMIC_LIFECYCLE_HOOK must be a lifecycle hook's name/.test(error.message),
    );
  });
});
