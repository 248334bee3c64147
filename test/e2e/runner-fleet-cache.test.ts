import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseCacheRegistry } from "../../src/core/cache-registry.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import Docker from "dockerode";
import { readSettings } from "../../src/settings/read-settings.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { startSecondDockerd, type SecondDockerd } from "../support/second-dockerd.js";
import { hooksYml, RUNNER_IMAGE, RunnerHarness } from "./runner-harness.js";

describe("runner end to end: two hosts share installs through KOZMIC_CACHE_REGISTRY", () => {
  let h: RunnerHarness;
  let registry: TestRegistry;
  let second: SecondDockerd;
  let engineB: DockerEngine;
  before(async () => {
    h = await RunnerHarness.start();
    [registry, second] = await Promise.all([
      startRegistry(),
      startSecondDockerd({ name: "fleet-e2e" }),
    ]);
    execFileSync("sh", [
      "-c",
      `docker save "$1" | docker -H "$2" load >/dev/null`,
      "sh",
      RUNNER_IMAGE,
      second.dockerHost,
    ]);
    engineB = new DockerEngine(new Docker({ socketPath: second.socketPath }));
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, [], "every GitHub request matched the OpenAPI description");
    for (const image of await engineB.findImages({ "kozmic.cache": "true" }))
      await engineB.removeImage(image.id);
    await h.stop();
    await second.stop();
    await registry.stop();
  });

  /** The settings of a runner on its own host: its data directory and the shared registry. */
  const hostSettings = (name: string) => ({
    ...readSettings(
      { KOZMIC_DATA_DIR: mkdtempSync(join(h.dir, `${name}-`)), KOZMIC_DEFAULT_MEMORY: "256m" },
      ["pipeline"],
    ).pipeline,
    cacheRegistry: parseCacheRegistry(`${registry.host}/kozmic-cache`),
  });

  it("host A installs and pushes; host B's job on the next commit pulls and skips the install", async () => {
    const { git, target } = h.repository();
    const yml = hooksYml({
      install: "echo installing\ncp deps.txt /opt/deps",
      build: "cat /opt/deps",
      tracked: ["deps.txt"],
    });
    const runnerA = h.startRunner({ name: "host-a", pipeline: hostSettings("a") });
    const first = git.commit({ ".github/kozmic.yml": yml, "deps.txt": "left-pad 1\n" });
    await h.push(target, first);
    const one = await h.completed(target, first);
    assert.equal(one.conclusion, "success", one.output.summary ?? "");
    assert.match(one.output.summary ?? "", /Install cache: \*\*miss\*\*/);
    // Stopping waits for the push (within the grace period).
    await runnerA.stop();
    assert.ok(
      h.runnerLog.some((l) => /fleet cache: pushed \S+:trusted-[0-9a-f]{64} \(sha256:/.test(l)),
      h.runnerLog.join("\n"),
    );

    h.startRunner({ name: "host-b", pipeline: hostSettings("b") }, { engine: engineB });
    const next = git.commit({
      ".github/kozmic.yml": yml,
      "deps.txt": "left-pad 1\n",
      README: "x\n",
    });
    await h.push(target, next);
    const two = await h.completed(target, next);
    assert.equal(two.conclusion, "success", two.output.summary ?? "");
    assert.match(two.output.summary ?? "", /Install cache: \*\*hit\*\*/);
    const job = (
      await h.store.listJobs((await h.store.findBuildsByCommit(target.id, next))[0]!.id)
    )[0]!;
    const log = await h.logOf(job.id);
    assert.match(log, /install skipped: cache hit [0-9a-f]{64} \(pulled from the fleet cache /);
    assert.doesNotMatch(log, /installing/);
    assert.match(log, /left-pad 1/);
  });
});
