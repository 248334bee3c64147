import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeEngine } from "../support/fake-engine.js";
import { describeJobNetwork } from "../../runner/pipeline/job-network.js";
import { formatCheck, ok, problem } from "../../src/doctor/checks.js";

/** The line `kozmic doctor` prints. */
const line = async (engine: FakeEngine, network: string, networkIsDefault?: boolean) => {
  const report = await describeJobNetwork(engine, {
    network,
    ...(networkIsDefault ? { networkIsDefault } : {}),
  });
  return formatCheck((report.problem ? problem : ok)("job network", report.detail));
};

test("doctor's job network: the default bridge, there or not; a chosen network, there or not", async () => {
  const engine = new FakeEngine();
  assert.equal(
    await line(engine, "bridge", true),
    "ok      job network: bridge (Docker's default; KOZMIC_NETWORK chooses another)",
  );
  assert.equal(await line(engine, "host"), "ok      job network: host (KOZMIC_NETWORK)");
  assert.match(
    await line(engine, "none"),
    /^ok .*jobs have no network; installs that download fail$/,
  );
  engine.networks.delete("bridge");
  assert.match(
    await line(engine, "bridge", true),
    /^problem job network: the Docker engine has no "bridge" network \(dockerd --bridge=none\?\), so jobs run without a network/,
  );
  assert.match(
    await line(engine, "ci-net"),
    /^problem job network: KOZMIC_NETWORK=ci-net: the Docker engine has no such network, so every job fails to start: create it \(docker network create ci-net\)/,
  );
});
