import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import type { ContainerSpec } from "../../runner/engine/port.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";

const engine = new DockerEngine();
const IMAGE = `kozmic-test/engine-${randomUUID().slice(0, 8)}`;
const label = { "kozmic.test": randomUUID() };
const made: string[] = [];

before(() => ensureBusyboxImage(IMAGE));
after(async () => {
  for (const c of await engine.listContainers(label)) await engine.removeContainer(c.id);
  for (const id of made) await engine.removeImage(id);
  removeImages(IMAGE);
});

const spec = (cmd: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  image: IMAGE,
  cmd,
  env: { GREETING: "hi" },
  workingDir: "/",
  labels: label,
  memoryBytes: 64 * 1024 ** 2,
  nanoCpus: 5e8,
  pidsLimit: 32,
  network: "none",
  volumes: [],
  ...extra,
});

test("run streams stdout and stderr in order and returns the exit code", async () => {
  // Docker keeps no order between the two streams for writes made at the same instant (the
  // pipeline joins them with 2>&1 in the container), so the writes here are spaced out.
  const id = await engine.createContainer(
    spec(["sh", "-c", "echo $GREETING; sleep 0.2; echo err >&2; sleep 0.2; echo out; exit 3"]),
  );
  let out = "";
  assert.equal(await engine.run(id, (t) => (out += t)), 3);
  assert.equal(out, "hi\nerr\nout\n");
  await engine.removeContainer(id);
});

test("remove is idempotent, also after a failed start", async () => {
  const id = await engine.createContainer(spec(["/no/such/binary"]));
  await assert.rejects(engine.run(id, () => {}));
  await engine.removeContainer(id);
  await engine.removeContainer(id);
  await engine.killContainer(id);
  assert.deepEqual(
    (await engine.listContainers(label)).filter((c) => c.id === id),
    [],
  );
});

test("putArchive, readFile and commit with labels; the image is found by label", async () => {
  const volume = await engine.createVolume(label);
  const id = await engine.createContainer(
    spec(["sh", "-c", "cat /kozmic/hello.txt > /opt/copied"], {
      volumes: [{ source: volume, target: "/kozmic" }],
    }),
  );
  try {
    const tar = pack();
    tar.entry({ name: "kozmic/hello.txt" }, "from the host\n");
    tar.finalize();
    await engine.putArchive(id, "/", Readable.from(tar as unknown as AsyncIterable<Buffer>));
    assert.equal(await engine.readFile(id, "/kozmic/hello.txt"), "from the host\n");
    assert.equal(await engine.readFile(id, "/no/such/file"), undefined);
    assert.equal(await engine.run(id, () => {}), 0);
    const key = randomUUID();
    const imageId = await engine.commitContainer(id, "kozmic-test/engine-commit", key, {
      "kozmic.test.key": key,
    });
    made.push(imageId);
    const found = await engine.findImages({ "kozmic.test.key": key });
    assert.deepEqual(
      found.map((i) => i.id),
      [imageId],
    );
    const check = await engine.createContainer(
      spec(["sh", "-c", "cat /opt/copied; ls /kozmic 2>&1 | wc -l"], { image: imageId }),
    );
    let out = "";
    await engine.run(check, (t) => (out += t));
    await engine.removeContainer(check);
    assert.equal(out, "from the host\n0\n", "the volume's content is not in the committed image");
  } finally {
    await engine.removeContainer(id);
    await engine.removeVolume(volume);
    await engine.removeVolume(volume);
  }
});

test("inspecting a missing image gives undefined; pulling it is an InfrastructureError", async () => {
  assert.equal(await engine.inspectImage(`kozmic-test/missing-${randomUUID()}`), undefined);
  await assert.rejects(engine.pullImage(`kozmic-test/missing-${randomUUID().slice(0, 8)}`), {
    name: "InfrastructureError",
  });
});
