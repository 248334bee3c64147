import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { InfrastructureError } from "../../src/core/errors.js";
import { FakeEngine } from "../support/fake-engine.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import type { StepSpec } from "../../runner/engine/port.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

async function runFake(
  engine: FakeEngine,
  hook: Partial<HookInput>,
  phases: string[] = [],
  settings: Partial<PipelineSettings> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-fake-"));
  let log = "";
  const cacheRecords = openEmbeddedStore({ dataDir: dir });
  try {
    const result = await runJob(
      {
        jobId: "j",
        repositoryId: "r",
        scope: "trusted",
        hook: hookSchema.parse({ name: "t", image: "base", build: "b", ...hook }),
        sourceDir: dir,
        trackedFiles: [],
      },
      {
        engine,
        settings: testPipelineSettings(dir, { defaultPids: 10, cacheKeep: 2, ...settings }),
        cacheRecords,
        log: { write: (t) => void (log += t), flush: async () => {} },
        onPhase: (p) => phases.push(p),
      },
    );
    return { result, log };
  } finally {
    await cacheRecords.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("phases are reported in order and a miss installs then builds from the cache image", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  const phases: string[] = [];
  const { result } = await runFake(engine, { install: "i" }, phases);
  assert.equal(result.conclusion, "success");
  assert.deepEqual(phases, ["preparing", "installing", "building"]);
  assert.equal(engine.containers.size, 0);
});

test("a start failure is an infrastructure error and still cleans up", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  await assert.rejects(runFake(engine, { env: { FAKE_START_FAIL: "1" } }), InfrastructureError);
  assert.equal(engine.containers.size, 0);
});

test("the step's exit code becomes the job's", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  const { result, log } = await runFake(engine, { env: { FAKE_EXIT: "5", FAKE_OUTPUT: "boom" } });
  assert.equal(result.conclusion, "failure");
  assert.equal(result.exitCode, 5);
  assert.match(log, /boom\n==> build exit code 5/);
});

test("the exit line names the failed command the script's trap recorded", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  const build = "make\nmake test\n";
  const failed = (file: string, hook: Partial<HookInput> = {}) =>
    runFake(engine, { build, env: { FAKE_EXIT: "5", FAKE_STEP_FILE: file }, ...hook });
  const named = await failed("/kozmic/failed-command=2 5\n");
  assert.match(named.log, /\n==> build failed: "make test" exited with 5\n/);
  assert.equal(named.result.exitCode, 5);
  // A status that is not the step's, a number past the script's commands, a file too long
  // to be the trap's, or echo turned off: the plain exit line.
  for (const file of ["2 3\n", "3 5\n", `2 5\n${" ".repeat(100)}`, "two 5\n"]) {
    const { log } = await failed(`/kozmic/failed-command=${file}`);
    assert.match(log, /\n==> build exit code 5\n/, file);
  }
  const off = await failed("/kozmic/failed-command=2 5\n", { echo: false });
  assert.match(off.log, /\n==> build exit code 5\n/);
});

test("pull policy always pulls, and a failed pull is an InfrastructureError", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  await assert.rejects(runFake(engine, { pull: "always" }), /cannot pull image base/);
  assert.deepEqual(engine.calls, ["pull base"]);
});

test("a stall during install ends the job timed_out and caches nothing", async () => {
  const engine = new FakeEngine();
  engine.addImage("base");
  const { result, log } = await runFake(engine, {
    install: "i",
    stall_timeout: 1,
    env: { FAKE_SLEEP_MS: "60000" },
  });
  assert.equal(result.conclusion, "timed_out");
  assert.equal(result.cacheHit, false);
  assert.match(log, /timed out: stall timeout: no output for 1s/);
  assert.deepEqual(await engine.findImages({ "kozmic.cache": "true" }), []);
  assert.equal(engine.containers.size, 0);
});

/** Keeps the network each step was created on. */
class NetworkEngine extends FakeEngine {
  readonly stepNetworks: string[] = [];
  override createStep(spec: StepSpec): Promise<string> {
    this.stepNetworks.push(spec.network);
    return super.createStep(spec);
  }
}

test("with KOZMIC_NETWORK unset, jobs get Docker's bridge", async () => {
  const engine = new NetworkEngine();
  engine.addImage("base");
  const byDefault = { network: "bridge", networkIsDefault: true };
  const { log } = await runFake(engine, { install: "i" }, [], byDefault);
  assert.deepEqual(engine.stepNetworks, ["bridge", "bridge"]);
  assert.doesNotMatch(log, /network: none/);
});

test("on an engine without a bridge (dockerd --bridge=none) the job runs without a network and says why", async () => {
  const engine = new NetworkEngine();
  engine.addImage("base");
  engine.networks.delete("bridge");
  const { log } = await runFake(engine, {}, [], { network: "bridge", networkIsDefault: true });
  assert.deepEqual(engine.stepNetworks, ["none"]);
  assert.match(
    log,
    /==> network: none, since the Docker engine on this runner has no "bridge" network \(dockerd --bridge=none\?\); set KOZMIC_NETWORK there to give jobs one\n/,
  );
  // A network set on purpose is never replaced; nor is a hook's own choice.
  const chosen = new NetworkEngine();
  chosen.addImage("base");
  chosen.networks.delete("bridge");
  await runFake(chosen, {}, [], { network: "bridge" });
  await runFake(chosen, { network: "none" }, [], { network: "bridge", networkIsDefault: true });
  assert.deepEqual(chosen.stepNetworks, ["bridge", "none"]);
});
