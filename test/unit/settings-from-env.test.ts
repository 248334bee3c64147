import { test } from "node:test";
import assert from "node:assert/strict";
import { settingsFromEnv } from "../../runner/pipeline/settings-from-env.js";

test("defaults when no KOZMIC_ variable is set", () => {
  assert.deepEqual(settingsFromEnv({}), {
    defaultMemoryBytes: 2 * 1024 ** 3,
    defaultCpus: 2,
    defaultPids: 1024,
    network: "none",
    allowHostNetwork: false,
    cacheKeep: 3,
    dataDir: "./.kozmic",
  });
});

test("variables override the defaults", () => {
  const s = settingsFromEnv({
    KOZMIC_DEFAULT_MEMORY: "512m",
    KOZMIC_DEFAULT_CPUS: "1.5",
    KOZMIC_NETWORK: "host",
    KOZMIC_ALLOW_HOST_NETWORK: "true",
    KOZMIC_CACHE_MAX_BYTES: "1g",
  });
  assert.equal(s.defaultMemoryBytes, 512 * 1024 ** 2);
  assert.equal(s.defaultCpus, 1.5);
  assert.equal(s.allowHostNetwork, true);
  assert.equal(s.cacheMaxBytes, 1024 ** 3);
});

test("a bad variable is named with its value", () => {
  assert.throws(() => settingsFromEnv({ KOZMIC_DEFAULT_PIDS: "-1" }), /KOZMIC_DEFAULT_PIDS="-1"/);
  assert.throws(
    () => settingsFromEnv({ KOZMIC_ALLOW_HOST_NETWORK: "yes" }),
    /KOZMIC_ALLOW_HOST_NETWORK="yes"/,
  );
  assert.throws(
    () => settingsFromEnv({ KOZMIC_NETWORK: "a b" }),
    /KOZMIC_NETWORK="a b": expected a Docker network name/,
  );
});
