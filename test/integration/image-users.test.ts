import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema } from "../../src/core/config/schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import type { ContainerSpec } from "../../runner/engine/docker-convert.js";
import {
  forgetRememberedImageUsers,
  knownImageUsers,
  rememberImageUsers,
} from "../../runner/pipeline/image-users.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

const ID = `sha256:${"ab".repeat(32)}`;

/** The machine's engine, counting the containers it creates. */
class CountingEngine extends DockerEngine {
  created: ContainerSpec[] = [];
  override async createContainer(spec: ContainerSpec): Promise<string> {
    this.created.push(spec);
    return super.createContainer(spec);
  }
}

const run = randomUUID().slice(0, 8);
const IMAGE = `kozmic-test/image-users-${run}`;
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

before(() => ensureBusyboxImage(IMAGE, { withKozmicUser: true }));
after(async () => {
  // The cache miss below commits an install: leave none of this run's behind.
  const engine = new DockerEngine();
  for (const image of await engine.findImages({ "kozmic.cache.repo": `image-users-${run}` }))
    await engine.removeImage(image.id);
  removeImages(IMAGE);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test("what was read from an image is kept under the data directory for the next process", async () => {
  const dataDir = tempDir("kozmic-image-users-");
  await rememberImageUsers(dataDir, ID, { passwd: "root:x:0:0::/root:/bin/sh\n", imageUser: "" });
  forgetRememberedImageUsers();
  assert.deepEqual(await knownImageUsers(dataDir, ID), {
    passwd: "root:x:0:0::/root:/bin/sh\n",
    imageUser: "",
  });
  await rememberImageUsers(dataDir, `sha256:${"cd".repeat(32)}`, {
    passwd: undefined,
    imageUser: undefined,
  });
  forgetRememberedImageUsers();
  assert.deepEqual(await knownImageUsers(dataDir, `sha256:${"cd".repeat(32)}`), {
    passwd: undefined,
    imageUser: undefined,
  });
});

test("names, hostile ids and damaged files are never answered from the cache", async () => {
  const dataDir = tempDir("kozmic-image-users-");
  await rememberImageUsers(dataDir, "busybox:latest", { passwd: "x", imageUser: undefined });
  await rememberImageUsers(dataDir, "sha256:../../etc/passwd", { passwd: "x", imageUser: "" });
  assert.equal(await knownImageUsers(dataDir, "busybox:latest"), undefined);
  assert.deepEqual(readdirSync(dataDir), [], "nothing written for a name or a path");

  await rememberImageUsers(dataDir, ID, { passwd: "p", imageUser: "u" });
  for (const damaged of ["{not json", "[]", "{}", '{"passwd": 7, "imageUser": null}', "null"]) {
    writeFileSync(join(dataDir, "image-users", `${"ab".repeat(32)}.json`), damaged);
    forgetRememberedImageUsers();
    assert.equal(await knownImageUsers(dataDir, ID), undefined, damaged);
  }
});

test("a second job on the same image, in a new process, starts no container to read /etc/passwd", async () => {
  const dataDir = tempDir("kozmic-image-users-data-");
  const sourceDir = tempDir("kozmic-image-users-src-");
  const records = openEmbeddedStore({ dataDir });
  try {
    const once = async (install?: string) => {
      forgetRememberedImageUsers(); // as a new `kozmic run` process would start
      const engine = new CountingEngine();
      let log = "";
      const result = await runJob(
        {
          jobId: randomUUID(),
          repositoryId: `image-users-${run}`,
          scope: "trusted",
          hook: hookSchema.parse({
            name: "test",
            image: IMAGE,
            network: "none",
            build: "id -un",
            ...(install ? { install } : {}),
          }),
          sourceDir,
          trackedFiles: [],
        },
        {
          engine,
          settings: testPipelineSettings(dataDir),
          cacheRecords: records,
          log: { write: (t) => void (log += t), flush: async () => {} },
        },
      );
      assert.equal(result.conclusion, "success", log);
      assert.match(log, /^kozmic$/m, "the script ran as the image's kozmic user");
      return engine.created.length;
    };
    assert.equal(await once(), 2, "first job: a probe for /etc/passwd, then the build");
    assert.equal(await once(), 1, "second job: the build's container only");
    // A cache miss keeps the committed image's users (read from the exited install
    // container before it is removed), so neither its build nor the first hit on that image
    // starts a probe. The miss's build runs in a fresh container, as the hit's does.
    const install = `echo ${randomUUID()} > /tmp/installed`;
    assert.equal(await once(install), 2, "miss: the install's container, then the build's");
    assert.equal(await once(install), 1, "hit: the build's container only");
  } finally {
    await records.close();
  }
});
