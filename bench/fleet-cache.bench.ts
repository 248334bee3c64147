/**
 * The fleet install cache (run by `npm run bench`, never by tests), with Debian's
 * docker-registry on 127.0.0.1 and a second dockerd standing in for a second host:
 * 1. a second host's first job on a cached key (pull from the registry) against running the
 *    install there, for an install that writes 300 MB of incompressible files;
 * 2. the push's cost to the job that committed: its wall time with the fleet cache (the push
 *    in the background, beside a build that reads the 300 MB) against the same job without it,
 *    and how long the push itself takes.
 * Each run uses new repositories, so every first job misses. Figures are medians.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema } from "../src/core/config/schema.js";
import { parseCacheRegistry } from "../src/core/cache-registry.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import { FleetCache } from "../runner/cache/fleet-cache.js";
import { dockerConfigCredentials } from "../runner/cache/registry-credentials.js";
import { DockerEngine } from "../runner/engine/docker-engine.js";
import Docker from "dockerode";
import { runJob } from "../runner/pipeline/run-job.js";
import { ensureBusyboxImage, removeImages } from "../test/support/images.js";
import { testPipelineSettings } from "../test/support/pipeline-settings.js";
import { startRegistry } from "../test/support/registry.js";
import { startSecondDockerd } from "../test/support/second-dockerd.js";

const RUNS = Number(process.env.BENCH_FLEET_RUNS ?? 3);
const MB = Number(process.env.BENCH_FLEET_MB ?? 300);
// 100 files of MB/100 each, random (a package manager's downloads are compressed already).
const INSTALL =
  `mkdir -p /opt/pkgs; i=0; while [ $i -lt 100 ]; do ` +
  `head -c ${(MB * 1024 * 1024) / 100} /dev/urandom > /opt/pkgs/p$i; i=$((i+1)); done`;
const BUILD = "cat /opt/pkgs/* | sha256sum";
const base = `kozmic-bench/fleet-${randomUUID().slice(0, 8)}`;
const work = mkdtempSync(join(tmpdir(), "kozmic-bench-fleet-"));
const store = openEmbeddedStore({ dataDir: join(work, "store") });
const silent = { write: () => {}, flush: async () => {} };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const registry = await startRegistry();
const second = await startSecondDockerd({ name: "bench" });
const hosts = {
  a: { engine: new DockerEngine(), dataDir: join(work, "a") },
  b: {
    engine: new DockerEngine(new Docker({ socketPath: second.socketPath })),
    dataDir: join(work, "b"),
  },
};
const fleetOf = (owner: string) =>
  new FleetCache({
    registry: parseCacheRegistry(`${registry.host}/kozmic-cache`),
    credentials: dockerConfigCredentials(registry.host, join(work, "no-docker-config")),
    store,
    owner,
    log: () => {},
  });
const repos: string[] = [];

async function timeJob(
  host: { engine: DockerEngine; dataDir: string },
  repositoryId: string,
  fleet?: FleetCache,
): Promise<{ ms: number; hit: boolean; pullMs: number }> {
  const hook = hookSchema.parse({ name: "bench", image: base, install: INSTALL, build: BUILD });
  let log = "";
  const started = performance.now();
  const result = await runJob(
    {
      jobId: randomUUID(),
      repositoryId,
      scope: "trusted",
      hook,
      sourceDir: work,
      trackedFiles: [],
    },
    {
      engine: host.engine,
      settings: testPipelineSettings(host.dataDir, { defaultMemoryBytes: 1024 ** 3 }),
      log: { ...silent, write: (t) => void (log += t) },
      cacheRecords: store,
      ...(fleet ? { fleet } : {}),
    },
  );
  if (result.conclusion !== "success")
    throw new Error(`bench job ended ${result.conclusion}\n${log}`);
  const pulled = /pulled from the fleet cache \S+ in ([\d.]+)s/.exec(log);
  return {
    ms: performance.now() - started,
    hit: result.cacheHit === true,
    pullMs: pulled ? Number(pulled[1]) * 1000 : 0,
  };
}

async function removeCache(repositoryId: string) {
  for (const host of Object.values(hosts))
    for (const image of await host.engine.findImages({ "kozmic.cache.repo": repositoryId }))
      await host.engine.removeImage(image.id);
}

try {
  ensureBusyboxImage(base, { withKozmicUser: true });
  execFileSync("sh", [
    "-c",
    `docker save "$1" | docker -H "$2" load >/dev/null`,
    "sh",
    base,
    second.dockerHost,
  ]);
  const figures = { withPush: [] as number[], without: [] as number[], push: [] as number[] };
  const second_ = { pull: [] as number[], pullOnly: [] as number[], install: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    const shared = `bench-fleet-${randomUUID().slice(0, 8)}`;
    const alone = `bench-fleet-${randomUUID().slice(0, 8)}`;
    const onB = `bench-fleet-${randomUUID().slice(0, 8)}`;
    repos.push(shared, alone, onB);
    // Host A: the first job misses, installs, commits and pushes in the background.
    const fleetA = fleetOf("host-a");
    const a = await timeJob(hosts.a, shared, fleetA);
    const afterJob = performance.now();
    await fleetA.idle();
    figures.withPush.push(a.ms);
    figures.push.push(a.ms + (performance.now() - afterJob));
    figures.without.push((await timeJob(hosts.a, alone)).ms);
    // Host B: its first job on the key pulls; a job of another repository installs there.
    const b = await timeJob(hosts.b, shared, fleetOf("host-b"));
    if (!b.hit) throw new Error("host B did not pull the install");
    second_.pull.push(b.ms);
    second_.pullOnly.push(b.pullMs);
    second_.install.push((await timeJob(hosts.b, onB)).ms);
    for (const repo of [shared, alone, onB]) await removeCache(repo);
    console.log(
      `run ${run + 1}: A ${s(a.ms)} with push, ${s(figures.without.at(-1)!)} without; ` +
        `B pull ${s(b.ms)} (pull ${s(b.pullMs)}), B install ${s(second_.install.at(-1)!)}`,
    );
  }
  console.log(`install of ${MB} MB, medians of ${RUNS} runs:`);
  console.log(
    `second host's first job: pulled from the registry ${s(median(second_.pull))} ` +
      `(the pull ${s(median(second_.pullOnly))}) vs installing there ${s(median(second_.install))}`,
  );
  console.log(
    `committing job's wall time: ${s(median(figures.withPush))} with the background push vs ` +
      `${s(median(figures.without))} without (goal: no difference); ` +
      `the push ends ${s(median(figures.push))} after the job started`,
  );
} finally {
  for (const repo of repos) await removeCache(repo).catch(() => {});
  removeImages(base);
  await second.stop();
  await registry.stop();
  await store.close();
  rmSync(work, { recursive: true, force: true });
}
