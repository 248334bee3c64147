import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema } from "../../src/core/config/schema.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { listCache } from "../../runner/cache/list-cache.js";
import { pruneCache } from "../../runner/cache/prune-cache.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";

const engine = new DockerEngine();
const run = randomUUID().slice(0, 8);
const IMAGE = `kozmic-test/prune-${run}`;
const repositoryId = `test-prune-${run}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-data-"));
const sourceDir = mkdtempSync(join(tmpdir(), "kozmic-src-"));
// Keep many so that the prune after each install does not act before the test does.
const settings: PipelineSettings = testPipelineSettings(dataDir, {
  defaultMemoryBytes: 128 * 1024 ** 2,
  defaultPids: 64,
  cacheKeep: 10,
});
const containers: string[] = [];
const cacheRecords = openEmbeddedStore({ dataDir });

before(() => {
  ensureBusyboxImage(IMAGE);
  writeFileSync(join(sourceDir, "README"), "prune test\n");
});

after(async () => {
  for (const id of containers) execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  for (const image of await engine.findImages({ "kozmic.cache.repo": repositoryId }))
    await engine.removeImage(image.id);
  removeImages(IMAGE);
  await cacheRecords.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sourceDir, { recursive: true, force: true });
});

async function install(version: number): Promise<string> {
  const hook = hookSchema.parse({
    name: "deps",
    image: IMAGE,
    install: `echo v${version} > /opt/version`,
    build: "cat /opt/version",
  });
  const result = await runJob(
    { jobId: randomUUID(), repositoryId, scope: "trusted", hook, sourceDir, trackedFiles: [] },
    { engine, settings, cacheRecords, log: { write: () => {}, flush: async () => {} } },
  );
  assert.equal(result.conclusion, "success");
  assert.equal(result.cacheHit, false);
  return result.cacheKey!;
}

test("prune keeps the newest images of a hook and never removes one a container uses", async () => {
  const oldest = await install(1);
  const middle = await install(2);
  const newest = await install(3);
  const mine = async () =>
    (await listCache(engine, dataDir)).filter((e) => e.repositoryId === repositoryId);
  assert.deepEqual((await mine()).map((e) => e.key).sort(), [oldest, middle, newest].sort());

  const oldestImage = (await mine()).find((e) => e.key === oldest)!.imageId;
  containers.push(
    execFileSync("docker", ["create", "--network", "none", oldestImage, "true"], {
      encoding: "utf8",
    }).trim(),
  );

  const removed = await pruneCache(engine, settings, { repositoryId, hook: "deps" }, { keep: 1 });
  assert.deepEqual(
    removed.map((e) => e.key),
    [middle],
  );
  assert.deepEqual((await mine()).map((e) => e.key).sort(), [oldest, newest].sort());
});
