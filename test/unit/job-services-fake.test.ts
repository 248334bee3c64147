import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import type { TrustScope } from "../../src/core/cache-key.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { FakeEngine } from "../support/fake-engine.js";
import type { CacheRecords } from "../../runner/cache/cache-images.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

/** Runs a hook with services on the fake engine; what the log and the sections said. */
async function runWithServices(
  engine: FakeEngine,
  hook: Partial<HookInput>,
  options: {
    scope?: TrustScope;
    settings?: Partial<PipelineSettings>;
    signal?: AbortSignal;
    deferCleanup?: (removal: Promise<void>) => void;
  } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-services-"));
  let log = "";
  const sections: string[] = [];
  try {
    const result = await runJob(
      {
        jobId: "job-1",
        repositoryId: "r",
        scope: options.scope ?? "trusted",
        hook: hookSchema.parse({ name: "t", image: "base", build: "b", ...hook }),
        sourceDir: dir,
        trackedFiles: [],
      },
      {
        engine,
        settings: testPipelineSettings(dir, options.settings),
        // No install: the cache is never asked.
        cacheRecords: {} as CacheRecords,
        log: { write: (t) => void (log += t), flush: async () => {} },
        sections: {
          start: (name, title) => void sections.push(`${name}: ${title}`),
          end: (conclusion) => void sections.push(`end ${conclusion}`),
          flush: async () => {},
        },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.deferCleanup ? { deferCleanup: options.deferCleanup } : {}),
      },
    );
    return { result, log, sections };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function engineWith(...images: string[]): FakeEngine {
  const engine = new FakeEngine();
  for (const image of ["base", ...images]) engine.addImage(image);
  return engine;
}

/** Records the build's network, and the job networks and services there while it runs. */
function watchBuild(engine: FakeEngine) {
  const seen: { network?: string; networks: string[]; services: string[] } = {
    networks: [],
    services: [],
  };
  const createStep = engine.createStep.bind(engine);
  engine.createStep = (spec) => {
    seen.network = spec.network;
    seen.networks = [...engine.jobNetworks.keys()];
    seen.services = [...engine.services.values()].map((s) => `${s.spec.alias} ${s.state}`);
    return createStep(spec);
  };
  return seen;
}

test("services start before the build on the job's own network and are gone after it", async () => {
  const engine = engineWith("db-image", "cache-image");
  const build = watchBuild(engine);
  const { result, log, sections } = await runWithServices(engine, {
    memory: "512m",
    services: {
      db: {
        image: "db-image",
        env: { FAKE_OUTPUT: "db says ready", FAKE_UNHEALTHY: "1" },
        health: "mysqladmin ping",
      },
      cache: { image: "cache-image", command: ["redis-server", "--save", ""] },
    },
  });
  assert.equal(result.conclusion, "success", log);
  assert.equal(build.networks.length, 1);
  assert.equal(build.network, build.networks[0]);
  assert.match(build.network!, /^kozmic-job-job-1-/);
  assert.deepEqual(build.services.sort(), ["cache running", "db running"]);
  const calls = engine.calls;
  const buildRun = calls.findIndex((call) => call.startsWith("run "));
  assert.ok(calls.indexOf("service db") < buildRun, calls.join(", "));
  // The job's network is none (the settings'): the services' network has no route out either.
  assert.match(log, /==> network kozmic-job-job-1-\S+ \(no route out: the job's network is none\)/);
  assert.match(log, /==> service db: healthy after \d+\.\ds \(2 checks\)/);
  assert.match(log, /==> output of service db\ndb says ready\n/);
  assert.deepEqual(
    sections.filter((s) => !s.startsWith("end")),
    [
      "preparing: Preparing: base",
      "services: Services: db, cache",
      "build: Build",
      "services: Services' output",
    ],
  );
  assert.equal(engine.services.size, 0);
  assert.equal(engine.jobNetworks.size, 0);
});

test("the services get the job's limits and command; a fork's never the host network", async () => {
  const engine = engineWith("db-image");
  const started: { memory: number; cpus: number; pids: number; network: string; cmd?: string[] }[] =
    [];
  const startService = engine.startService.bind(engine);
  engine.startService = (spec, onOutput) => {
    started.push({
      memory: spec.memoryBytes,
      cpus: spec.nanoCpus,
      pids: spec.pidsLimit,
      network: spec.network,
      ...(spec.cmd ? { cmd: spec.cmd } : {}),
    });
    return startService(spec, onOutput);
  };
  const build = watchBuild(engine);
  const { result, log } = await runWithServices(
    engine,
    { memory: "1g", services: { db: { image: "db-image", command: ["serve", "--fast"] } } },
    { scope: "untrusted", settings: { network: "host", allowHostNetwork: true } },
  );
  assert.equal(result.conclusion, "success", log);
  // A fork gets at most the default memory (256 MiB here), its services too.
  assert.deepEqual(started, [
    {
      memory: 256 * 1024 ** 2,
      cpus: 1e9,
      pids: 128,
      network: build.network!,
      cmd: ["serve", "--fast"],
    },
  ]);
  assert.notEqual(build.network, "host");
  assert.match(log, /no route out: the job's network is none/);
});

test("a service that never becomes healthy fails the job with a line naming it; nothing is left", async () => {
  const engine = engineWith("db-image");
  const { result, log, sections } = await runWithServices(engine, {
    services: {
      db: {
        image: "db-image",
        env: { FAKE_UNHEALTHY: "always", FAKE_OUTPUT: "InnoDB: cannot allocate memory" },
        health: "mysqladmin ping",
        health_timeout: "2s",
      },
    },
  });
  assert.equal(result.conclusion, "failure");
  assert.match(
    log,
    /==> service db never became healthy in 2s: `mysqladmin ping` last exited 1: \/bin\/sh -c mysqladmin ping: not ready \(check \d\)\n/,
  );
  assert.match(log, /==> output of service db\nInnoDB: cannot allocate memory\n/);
  assert.ok(!engine.calls.some((call) => call.startsWith("run ")), "the build never ran");
  assert.equal(sections.at(-1), "end failure");
  assert.equal(engine.services.size, 0);
  assert.equal(engine.jobNetworks.size, 0);
});

test("a health check that hangs is given up at the timeout, with a line saying so", async () => {
  const engine = engineWith("db-image");
  const { result, log } = await runWithServices(engine, {
    services: {
      db: {
        image: "db-image",
        env: { FAKE_UNHEALTHY: "hang" },
        health: "sleep 1000",
        health_timeout: "1s",
      },
    },
  });
  assert.equal(result.conclusion, "failure");
  assert.match(
    log,
    /==> service db never became healthy in 1s: `sleep 1000` was still running at the timeout\n/,
  );
  assert.equal(engine.jobNetworks.size, 0);
});

test("a service that stops before its health check passes is named", async () => {
  const engine = engineWith("db-image");
  const { result, log } = await runWithServices(engine, {
    services: { db: { image: "db-image", env: { FAKE_EXIT: "1" }, health: "true" } },
  });
  assert.equal(result.conclusion, "failure");
  assert.match(log, /==> service db stopped before it became healthy/);
  assert.equal(engine.jobNetworks.size, 0);
});

test("a job cancelled while its services start up ends cancelled, and they are removed", async () => {
  const engine = engineWith("db-image");
  const controller = new AbortController();
  const execInService = engine.execInService.bind(engine);
  engine.execInService = (...args) => {
    controller.abort();
    return execInService(...args);
  };
  const { result } = await runWithServices(
    engine,
    { services: { db: { image: "db-image", env: { FAKE_UNHEALTHY: "always" }, health: "x" } } },
    { signal: controller.signal },
  );
  assert.equal(result.conclusion, "cancelled");
  assert.equal(engine.services.size, 0);
  assert.equal(engine.jobNetworks.size, 0);
});

test("a job cancelled during its build ends cancelled; its services and network go", async () => {
  const engine = engineWith("db-image");
  const controller = new AbortController();
  const runStep = engine.runStep.bind(engine);
  engine.runStep = (id, onOutput) => {
    const running = runStep(id, onOutput);
    controller.abort();
    return running;
  };
  const { result } = await runWithServices(
    engine,
    {
      env: { FAKE_SLEEP_MS: "60000" },
      services: { db: { image: "db-image", health: "true" } },
    },
    { signal: controller.signal },
  );
  assert.equal(result.conclusion, "cancelled");
  assert.equal(engine.containers.size, 0);
  assert.equal(engine.services.size, 0);
  assert.equal(engine.jobNetworks.size, 0);
});

test("with deferred cleanup, the services go once the build's container is removed", async () => {
  const engine = engineWith("db-image");
  const removals: Promise<void>[] = [];
  const { result } = await runWithServices(
    engine,
    { services: { db: { image: "db-image" } } },
    { deferCleanup: (removal) => removals.push(removal) },
  );
  assert.equal(result.conclusion, "success");
  assert.equal(removals.length, 1, "one teardown: the build's removal, then the services'");
  await Promise.all(removals);
  assert.equal(engine.containers.size, 0);
  assert.equal(engine.services.size, 0);
  assert.equal(engine.jobNetworks.size, 0);
});

test("a service's image is pulled when absent, and a failed pull removes what was made", async () => {
  const engine = engineWith();
  await assert.rejects(
    runWithServices(engine, { services: { db: { image: "missing-image" } } }),
    /cannot pull image missing-image/,
  );
  assert.ok(engine.calls.includes("pull missing-image"));
  assert.equal(engine.jobNetworks.size, 0);
});
