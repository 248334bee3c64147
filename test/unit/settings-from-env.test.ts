import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism, totalmem } from "node:os";
import { readSettings, type Env } from "../../src/settings/read-settings.js";

const settingsFromEnv = (env: Env) => readSettings(env, ["pipeline"]).pipeline;

test("defaults when no KOZMIC_ variable is set", () => {
  assert.deepEqual(settingsFromEnv({}), {
    defaultMemoryBytes: Math.min(2 * 1024 ** 3, totalmem()),
    defaultCpus: Math.min(2, availableParallelism()),
    defaultPids: 1024,
    maxMemoryBytes: totalmem(),
    maxCpus: availableParallelism(),
    network: "bridge",
    networkIsDefault: true,
    allowHostNetwork: false,
    noNewPrivileges: false,
    cacheKeep: 3,
    dataDir: "./.kozmic",
  });
});

test("ceilings, hardening and the runtime", () => {
  const s = settingsFromEnv({
    KOZMIC_MAX_MEMORY: "1g",
    KOZMIC_MAX_CPUS: "1",
    KOZMIC_NO_NEW_PRIVILEGES: "true",
    KOZMIC_DOCKER_RUNTIME: "runsc",
  });
  assert.equal(s.maxMemoryBytes, 1024 ** 3);
  assert.equal(s.maxCpus, 1);
  assert.equal(s.defaultMemoryBytes, 1024 ** 3, "the default never exceeds the ceiling");
  assert.equal(s.defaultCpus, 1);
  assert.equal(s.noNewPrivileges, true);
  assert.equal(s.runtime, "runsc");
  assert.throws(
    () => settingsFromEnv({ KOZMIC_MAX_MEMORY: "lots" }),
    /KOZMIC_MAX_MEMORY must be a size .*, got "lots"/,
  );
  assert.throws(
    () => settingsFromEnv({ KOZMIC_DOCKER_RUNTIME: "a b" }),
    /KOZMIC_DOCKER_RUNTIME must be a Docker runtime name such as runc or runsc, got "a b"/,
  );
  assert.throws(
    () => settingsFromEnv({ KOZMIC_NO_NEW_PRIVILEGES: "yes" }),
    /KOZMIC_NO_NEW_PRIVILEGES must be "true" or "false" \(or 1 or 0\), got "yes"/,
  );
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
  assert.throws(
    () => settingsFromEnv({ KOZMIC_DEFAULT_PIDS: "-1" }),
    /KOZMIC_DEFAULT_PIDS must be a whole number from 1 to 4194304, got "-1"/,
  );
  assert.throws(
    () => settingsFromEnv({ KOZMIC_ALLOW_HOST_NETWORK: "yes" }),
    /KOZMIC_ALLOW_HOST_NETWORK must be "true" or "false" \(or 1 or 0\), got "yes"/,
  );
  assert.throws(
    () => settingsFromEnv({ KOZMIC_NETWORK: "a b" }),
    /KOZMIC_NETWORK must be a Docker network name such as none, host or bridge, got "a b"/,
  );
});
