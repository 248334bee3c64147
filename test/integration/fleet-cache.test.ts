import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { computeCacheKey, type TrustScope } from "../../src/core/cache-key.js";
import { parseCacheRegistry, registryTag } from "../../src/core/cache-registry.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import Docker from "dockerode";
import { FleetCache } from "../../runner/cache/fleet-cache.js";
import { dockerConfigCredentials } from "../../runner/cache/registry-credentials.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import {
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  deleteFromRegistry,
  startRegistry,
  type TestRegistry,
} from "../support/registry.js";
import { startSecondDockerd, type SecondDockerd } from "../support/second-dockerd.js";

// Two Docker engines on this machine stand in for two runner hosts of one fleet: they share
// the store (as hosts share DynamoDB) and the registry, and nothing else.
type FleetStore = ConstructorParameters<typeof FleetCache>[0]["store"];
const run = randomUUID().slice(0, 8);
const BASE = `kozmic-test/fleet-base-${run}`;
const REPOSITORY = "kozmic-cache";
const work = mkdtempSync(join(tmpdir(), "kozmic-fleet-"));
const store = openEmbeddedStore({ dataDir: join(work, "store") });
const noDockerConfig = join(work, "no-docker-config");
let registry: TestRegistry;
let second: SecondDockerd;

interface Host {
  name: string;
  engine: DockerEngine;
  dataDir: string;
  /** The runner's own lines (push results). */
  lines: string[];
}
let hostA: Host;
let hostB: Host;

function fleetOf(
  host: Host,
  registryHost: string,
  dockerConfigDir = noDockerConfig,
  options: { waitMs?: number; tagKey?: string; store?: FleetStore } = {},
): FleetCache {
  const { tagKey, ...rest } = options;
  return new FleetCache({
    registry: {
      ...parseCacheRegistry(`${registryHost}/${REPOSITORY}`),
      ...(tagKey ? { tagKey } : {}),
    },
    credentials: dockerConfigCredentials(registryHost, dockerConfigDir),
    store,
    owner: host.name,
    log: (line) => host.lines.push(line),
    leaseMs: 3_000,
    pollMs: 200,
    ...rest,
  });
}

before(async () => {
  ensureBusyboxImage(BASE, { withKozmicUser: true });
  [registry, second] = await Promise.all([startRegistry(), startSecondDockerd({ name: "fleet" })]);
  // Both hosts have the same base image (as a pull from one registry gives them).
  execFileSync("sh", [
    "-c",
    `docker save "$1" | docker -H "$2" load >/dev/null`,
    "sh",
    BASE,
    second.dockerHost,
  ]);
  hostA = { name: "host-a", engine: new DockerEngine(), dataDir: join(work, "a"), lines: [] };
  hostB = {
    name: "host-b",
    engine: new DockerEngine(new Docker({ socketPath: second.socketPath })),
    dataDir: join(work, "b"),
    lines: [],
  };
});

after(async () => {
  for (const host of [hostA, hostB]) {
    if (!host) continue;
    for (const image of await host.engine.findImages({ "kozmic.cache": "true" }))
      if (image.labels["kozmic.cache.repo"]?.startsWith(`fleet-${run}`))
        await host.engine.removeImage(image.id);
  }
  removeImages(BASE);
  // The second engine's data root is kept between runs: leave nothing of this run in it.
  if (second) await hostB.engine.removeImage(BASE);
  await second?.stop();
  await registry?.stop();
  await store.close();
  rmSync(work, { recursive: true, force: true });
});

/** A TCP server on 127.0.0.1 that accepts every connection and never writes a byte. */
async function silentServer() {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function newRepo(): { id: string; dir: string } {
  const id = `fleet-${run}-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(work, "src-"));
  return { id, dir };
}

const INSTALL = "echo RUNNING-INSTALL; echo installed > /opt/dep";
const BUILD = "cat /opt/dep";

async function job(
  host: Host,
  fleet: FleetCache | undefined,
  repo: { id: string; dir: string },
  hook: Partial<HookInput> = {},
  scope: TrustScope = "trusted",
  jobId: string = randomUUID(),
): Promise<{ result: JobResult; log: string }> {
  const parsed = hookSchema.parse({
    name: "test",
    image: BASE,
    install: INSTALL,
    build: BUILD,
    ...hook,
  });
  let log = "";
  const result = await runJob(
    {
      jobId,
      repositoryId: repo.id,
      scope,
      ...(scope === "untrusted" ? { fork: "repo-7" } : {}),
      hook: parsed,
      sourceDir: repo.dir,
      trackedFiles: [],
    },
    {
      engine: host.engine,
      settings: testPipelineSettings(host.dataDir),
      cacheRecords: store,
      log: { write: (t) => void (log += t), flush: async () => {} },
      ...(fleet ? { fleet } : {}),
    },
  );
  return { result, log };
}

/**
 * Lets the install container of one of these jobs, on one of these hosts, past its wait for
 * /tmp/go, once it is running (its host may hold the key's lease before it has started it).
 */
async function releaseInstall(hosts: Host[], jobIds: string[]): Promise<void> {
  const engines = hosts.map((host) =>
    host === hostB ? new Docker({ socketPath: second.socketPath }) : new Docker(),
  );
  for (let tries = 0; tries < 600; tries++) {
    for (const docker of engines) {
      const running = await docker.listContainers({ filters: { label: ["kozmic.job"] } });
      const install = running.find((c) => jobIds.includes(c.Labels["kozmic.job"] ?? ""));
      if (install) {
        const exec = await docker.getContainer(install.Id).exec({ Cmd: ["touch", "/tmp/go"] });
        await exec.start({ Detach: true });
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function registryTags(host: string, auth?: string): Promise<string[]> {
  const answer = await fetch(`http://${host}/v2/${REPOSITORY}/tags/list`, {
    headers: auth ? { Authorization: `Basic ${auth}` } : {},
  });
  if (answer.status === 404) return [];
  return ((await answer.json()) as { tags: string[] | null }).tags ?? [];
}

describe("the fleet install cache", () => {
  test("host A misses and pushes; host B's first job pulls the install and skips it", async () => {
    const repo = newRepo();
    const fleetA = fleetOf(hostA, registry.host);
    const a = await job(hostA, fleetA, repo);
    assert.equal(a.result.conclusion, "success", a.log);
    assert.equal(a.result.cacheHit, false);
    assert.match(a.log, /cache miss [0-9a-f]{64}: running install/);
    assert.match(a.log, new RegExp(`not in the fleet cache ${registry.host}/${REPOSITORY} either`));
    const tag = registryTag(repo.id, "trusted", a.result.cacheKey!);
    assert.match(
      a.log,
      new RegExp(
        `pushing the install to the fleet cache ${registry.host}/${REPOSITORY}:${tag} in the background`,
      ),
    );
    await fleetA.idle();
    assert.match(
      hostA.lines.join("\n"),
      new RegExp(`fleet cache: pushed .*:${tag} \\(sha256:[0-9a-f]{64}\\)`),
    );
    assert.ok((await registryTags(registry.host)).includes(tag));

    const b = await job(hostB, fleetOf(hostB, registry.host), repo);
    assert.equal(b.result.conclusion, "success", b.log);
    assert.equal(b.result.cacheHit, true);
    assert.doesNotMatch(b.log, /RUNNING-INSTALL/);
    assert.match(
      b.log,
      new RegExp(
        `install skipped: cache hit ${a.result.cacheKey} \\(pulled from the fleet cache .*:${tag} in \\d+\\.\\ds\\)`,
      ),
    );
    assert.match(b.log, /\ninstalled\n/, "the build runs on the pulled install");
    // B's second job is a local hit.
    const again = await job(hostB, fleetOf(hostB, registry.host), repo);
    assert.match(again.log, /install skipped: cache hit [0-9a-f]{64} \(local image\)/);
  });

  test("A and B miss the same key at once: the install runs once, the other host pulls it", async () => {
    const repo = newRepo();
    // The install holds until the other host has found the key's lease held (seen in the
    // store the fleets share), however slow that host is to get there: then the test lets
    // it end. Its own bound (60 s) ends it should that never come, and the test then fails.
    const install = `echo RUNNING-INSTALL; i=0; while [ ! -e /tmp/go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; echo installed > /opt/dep`;
    let sawHeld!: () => void;
    const held = new Promise<void>((resolve) => (sawHeld = resolve));
    const watched: FleetStore = {
      acquireLease: async (...args) => {
        const lease = await store.acquireLease(...args);
        if (!lease.acquired) sawHeld();
        return lease;
      },
      releaseLease: (...args) => store.releaseLease(...args),
      getCacheImage: (...args) => store.getCacheImage(...args),
      recordCacheImage: (...args) => store.recordCacheImage(...args),
    };
    const ids = [randomUUID(), randomUUID()];
    const jobs = Promise.all([
      job(
        hostA,
        fleetOf(hostA, registry.host, noDockerConfig, { store: watched }),
        repo,
        { install },
        "trusted",
        ids[0],
      ),
      job(
        hostB,
        fleetOf(hostB, registry.host, noDockerConfig, { store: watched }),
        repo,
        { install },
        "trusted",
        ids[1],
      ),
    ]);
    await Promise.race([held, jobs]);
    await releaseInstall([hostA, hostB], ids);
    const [a, b] = await jobs;
    const logs = [a.log, b.log];
    assert.equal(logs.filter((l) => /RUNNING-INSTALL/.test(l)).length, 1, logs.join("\n----\n"));
    const waiter = logs.find((l) => !/RUNNING-INSTALL/.test(l))!;
    assert.match(
      waiter,
      /host-[ab] \(job [0-9a-f-]+\) is installing this key for the fleet: waiting up to \d+s/,
    );
    assert.match(waiter, /install skipped: cache hit [0-9a-f]{64} \(pulled from the fleet cache/);
    assert.deepEqual([a.result.conclusion, b.result.conclusion], ["success", "success"]);
  });

  test("a host that holds the key's lease and never pushes: the others wait a while, then install", async () => {
    const repo = newRepo();
    const hook = hookSchema.parse({ name: "test", image: BASE, install: INSTALL, build: BUILD });
    const baseId = (await hostA.engine.inspectImage(BASE))!.id;
    const key = computeCacheKey({
      baseImageId: baseId,
      installScript: hook.install!,
      trackedFiles: [],
      repositoryId: repo.id,
      scope: "trusted",
    });
    // A host that took the lease and hung (its lease is long, so it does not lapse first).
    assert.equal((await store.acquireLease(key, "host-z (job 42)", 600_000)).acquired, true);
    const { result, log } = await job(
      hostA,
      fleetOf(hostA, registry.host, noDockerConfig, { waitMs: 1_000 }),
      repo,
    );
    assert.equal(result.conclusion, "success", log);
    assert.match(
      log,
      /host-z \(job 42\) is installing this key for the fleet: waiting up to 1s to pull it/,
    );
    assert.match(log, /waited \d+s for host-z \(job 42\): installing here/);
    assert.match(log, /RUNNING-INSTALL/);
  });

  test("an untrusted job reads the trusted install but pushes only under its own scope", async () => {
    const repo = newRepo();
    const fleetA = fleetOf(hostA, registry.host);
    const trusted = await job(hostA, fleetA, repo);
    await fleetA.idle();
    // The fork's job on B pulls the trusted install (untrusted jobs may read the trusted cache).
    const fork = await job(hostB, fleetOf(hostB, registry.host), repo, {}, "untrusted");
    assert.equal(fork.result.cacheHit, true, fork.log);
    assert.match(
      fork.log,
      new RegExp(
        `pulled from the fleet cache .*:${registryTag(repo.id, "trusted", trusted.result.cacheKey!)}`,
      ),
    );
    // A fork's own install goes to the untrusted tag, where no trusted job looks.
    const forkInstall = `${INSTALL}; echo forked >> /opt/dep`;
    const fleetB = fleetOf(hostB, registry.host);
    const forked = await job(hostB, fleetB, repo, { install: forkInstall }, "untrusted");
    assert.equal(forked.result.cacheHit, false, forked.log);
    await fleetB.idle();
    const tags = await registryTags(registry.host);
    const untrustedTag = registryTag(repo.id, "untrusted", forked.result.cacheKey!);
    assert.ok(tags.includes(untrustedTag), tags.join(" "));
    assert.ok(tags.includes(registryTag(repo.id, "trusted", trusted.result.cacheKey!)));
    assert.ok(!tags.includes(registryTag(repo.id, "trusted", forked.result.cacheKey!)));
    const mainline = await job(hostA, fleetOf(hostA, registry.host), repo, {
      install: forkInstall,
    });
    assert.equal(mainline.result.cacheHit, false, mainline.log);
    assert.match(mainline.log, /RUNNING-INSTALL/);
    assert.doesNotMatch(mainline.log, /pulled from the fleet cache/);
    assert.notEqual(mainline.result.cacheKey, forked.result.cacheKey);
  });

  test("an install cached before the fleet cache was set is pushed on its next hit", async () => {
    const repo = newRepo();
    const before = await job(hostA, undefined, repo);
    assert.doesNotMatch(before.log, /fleet cache/);
    const fleetA = fleetOf(hostA, registry.host);
    const hit = await job(hostA, fleetA, repo);
    assert.match(hit.log, /\(local image\)/);
    assert.match(hit.log, /pushing the install to the fleet cache .* in the background/);
    await fleetA.idle();
    // Pushed once: the record has its digest now.
    const again = await job(hostA, fleetA, repo);
    assert.doesNotMatch(again.log, /pushing/);
    const b = await job(hostB, fleetOf(hostB, registry.host), repo);
    assert.match(b.log, /pulled from the fleet cache/, b.log);
  });

  test("an install whose image vanished from the registry is a miss, not an error", async () => {
    const repo = newRepo();
    const fleetA = fleetOf(hostA, registry.host);
    const a = await job(hostA, fleetA, repo);
    await fleetA.idle();
    await deleteFromRegistry(
      registry,
      REPOSITORY,
      registryTag(repo.id, "trusted", a.result.cacheKey!),
    );
    const b = await job(hostB, fleetOf(hostB, registry.host), repo);
    assert.equal(b.result.conclusion, "success", b.log);
    assert.equal(b.result.cacheHit, false);
    assert.match(b.log, /not in the fleet cache .* either/);
    assert.match(b.log, /RUNNING-INSTALL/);
  });

  test("the registry down: the job installs and runs, a log line says why, the push fails quietly", async () => {
    const down = await startRegistry();
    const downHost = down.host;
    await down.stop();
    const repo = newRepo();
    const host = { ...hostA, lines: [] as string[] };
    const fleet = fleetOf(host, downHost);
    const { result, log } = await job(host, fleet, repo);
    assert.equal(result.conclusion, "success", log);
    assert.match(
      log,
      new RegExp(
        `fleet cache ${downHost}/${REPOSITORY}: cannot pull .*connection refused.*; installing here`,
      ),
    );
    await fleet.idle();
    assert.match(
      host.lines.join("\n"),
      /fleet cache: push of .* failed: cannot push .*connection refused/,
    );
    // Later jobs on the host still hit the local cache.
    const again = await job(host, fleet, repo);
    assert.match(again.log, /\(local image\)/);
  });

  test("a registry that accepts the connection and never answers: pull and push give up after the engine's silence limit, the job installs here and passes", async () => {
    const silent = await silentServer();
    try {
      const host = {
        ...hostA,
        engine: new DockerEngine(new Docker(), { registrySilenceMs: 1_000 }),
        lines: [] as string[],
      };
      const fleet = fleetOf(host, silent.host);
      const { result, log } = await job(host, fleet, newRepo());
      assert.equal(result.conclusion, "success", log);
      assert.match(
        log,
        new RegExp(
          `fleet cache ${silent.host}/${REPOSITORY}: cannot pull .*: the registry did not answer for 1 s; installing here`,
        ),
      );
      assert.match(log, /RUNNING-INSTALL/);
      await fleet.idle();
      assert.match(
        host.lines.join("\n"),
        /fleet cache: push of .* failed: cannot push .*: the registry did not answer for 1 s/,
      );
      assert.ok(silent.connections() > 0, "the engine did connect to the registry");
    } finally {
      await silent.close();
    }
  });

  test("a registry that requires credentials: used from Docker's config auths, a clear error without", async () => {
    const locked = await startRegistry({ htpasswd: true });
    try {
      const config = join(work, "docker-config");
      const auth = Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString("base64");
      execFileSync("mkdir", ["-p", config]);
      writeFileSync(
        join(config, "config.json"),
        JSON.stringify({ auths: { [locked.host]: { auth } } }),
      );
      const repo = newRepo();
      const hostWithout = { ...hostA, lines: [] as string[] };
      const without = fleetOf(hostWithout, locked.host);
      const refused = await job(hostWithout, without, repo);
      assert.equal(refused.result.conclusion, "success", refused.log);
      const clear = new RegExp(
        `${locked.host} asks for credentials and ${noDockerConfig}/config.json \\(auths of ${locked.host}\\) has none: run \`docker login ${locked.host}\` as the runner's user`,
      );
      assert.match(refused.log, clear);
      await without.idle();
      assert.match(hostWithout.lines.join("\n"), clear);
      assert.deepEqual(await registryTags(locked.host, auth), []);

      // Anonymous clients (a job on a network that reaches the registry) are refused.
      for (const path of ["/v2/_catalog", `/v2/${REPOSITORY}/tags/list`]) {
        assert.equal((await fetch(`http://${locked.host}${path}`)).status, 401, path);
      }

      // Keyed tags: the runners push and pull by them; the list names no repository.
      const tagKey = "fleet-tag-key-0123456789abcdef0123";
      const repo2 = newRepo();
      const fleetA = fleetOf(hostA, locked.host, config, { tagKey });
      const a = await job(hostA, fleetA, repo2);
      await fleetA.idle();
      const tags = await registryTags(locked.host, auth);
      assert.ok(tags.includes(registryTag(repo2.id, "trusted", a.result.cacheKey!, tagKey)));
      assert.ok(!tags.some((tag) => tag.includes(repo2.id)), tags.join(" "));
      const b = await job(hostB, fleetOf(hostB, locked.host, config, { tagKey }), repo2);
      assert.match(b.log, /pulled from the fleet cache/, b.log);
      assert.doesNotMatch(`${a.log}${b.log}${hostA.lines.join("")}`, new RegExp(REGISTRY_PASSWORD));
    } finally {
      await locked.stop();
    }
  });
});
