import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, connect, type Socket } from "node:net";
import { join } from "node:path";
import Docker from "dockerode";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import type { StepSpec } from "../../runner/engine/port.js";
import { defineEngineContract, type Behaviour } from "../contract/engine-contract.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";

const IMAGE = `kozmic-test/engine-${randomUUID().slice(0, 8)}`;
const docker = new Docker();
const scratch = mkdtempSync(join(tmpdir(), "kozmic-engine-steps-"));

before(() => ensureBusyboxImage(IMAGE));
after(() => {
  removeImages(IMAGE);
  rmSync(scratch, { recursive: true, force: true });
});

/** The step's helper (/kozmic/run.sh) does what it is told. */
function behave(b: Behaviour) {
  const script = [
    b.output ? `echo ${b.output}` : "",
    b.sleepSeconds ? `sleep ${b.sleepSeconds}` : "",
    `exit ${b.exit ?? 0}`,
  ].join("\n");
  return { env: {}, extra: [{ path: "run.sh", content: `${script}\n`, mode: 0o755 }] };
}

/** A step of `image` running `script` as root, with `sourceDir` as its /kozmic/src. */
function stepSpec(
  image: string,
  script: string,
  sourceDir: string,
  labels: Record<string, string>,
  env: Record<string, string> = {},
): StepSpec {
  return {
    image,
    env,
    labels,
    memoryBytes: 64 * 1024 ** 2,
    nanoCpus: 5e8,
    pidsLimit: 32,
    network: "none",
    files: { sourceDir, uid: 0, gid: 0, extra: [{ path: "run.sh", content: script, mode: 0o755 }] },
  };
}

const vanish = (id: string) => docker.getContainer(id).remove({ force: true }) as Promise<void>;

for (const [name, engine] of [
  ["Docker, a bind-mounted /kozmic", new DockerEngine()],
  ["Docker, an uploaded /kozmic", new DockerEngine(undefined, { bind: false })],
] as const) {
  defineEngineContract(name, () =>
    Promise.resolve({
      engine,
      image: IMAGE,
      behave,
      vanish,
      scratchDir: scratch,
      service: (exits?: boolean) => ({
        cmd: ["/bin/sh", "-c", exits ? "exit 0" : "echo ready; exec sleep 300"],
        env: {},
      }),
      health: ["/bin/sh", "-c", "echo healthy"],
    }),
  );
}

test("stdout and stderr in order; /kozmic holds the files and is not in a committed image", async () => {
  const engine = new DockerEngine(undefined, { bind: false });
  const source = mkdtempSync(join(tmpdir(), "kozmic-engine-src-"));
  writeFileSync(join(source, "hello.txt"), "from the host\n");
  const label = { "kozmic.test": randomUUID() };
  const spec = (image: string, script: string) =>
    stepSpec(image, script, source, label, { GREETING: "hi" });
  const made: string[] = [];
  try {
    // Docker keeps no order between the two streams for writes made at the same instant (the
    // pipeline joins them with 2>&1 in the container), so the writes here are spaced out.
    const first = await engine.createStep(
      spec(
        IMAGE,
        "echo $GREETING; sleep 0.2; echo err >&2; sleep 0.2; cat /kozmic/src/hello.txt > /opt/copied; echo x > /kozmic/junk",
      ),
    );
    let out = "";
    assert.equal(await engine.runStep(first, (t) => (out += t)), 0);
    assert.equal(out, "hi\nerr\n");
    const key = randomUUID();
    made.push(await engine.commitStep(first, "kozmic-test/engine-commit", key, {}));
    await engine.destroyStep(first);
    const check = await engine.createStep(
      spec(made[0]!, "cat /opt/copied; test -e /kozmic/junk && echo leaked || echo clean"),
    );
    out = "";
    await engine.runStep(check, (t) => (out += t));
    await engine.destroyStep(check);
    assert.equal(
      out,
      "from the host\nclean\n",
      "the volume's content is not in the committed image",
    );
  } finally {
    for (const id of made) await engine.removeImage(id);
    await engine.removeLabelled(label);
    rmSync(source, { recursive: true, force: true });
  }
});

/**
 * A Docker socket in front of the machine's, as a loaded or faulty engine may behave: it holds
 * every `POST /containers/<id>/wait` for `holdWaitMs` before passing it on, and with
 * `attachOpen` it never closes an attach connection (the step's output) on the client's side.
 */
async function dockerSocketProxy(options: {
  holdWaitMs?: number;
  attachOpen?: boolean;
}): Promise<{ path: string; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-docker-proxy-"));
  const path = join(dir, "docker.sock");
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    const engine = connect("/var/run/docker.sock");
    let queue = Promise.resolve();
    let attach = false;
    client.on("data", (chunk: Buffer) => {
      const head = chunk.toString("latin1");
      const hold = /^POST [^ ]*\/containers\/[^ ]+\/wait/m.test(head);
      attach ||= /^POST [^ ]*\/containers\/[^ ]+\/attach/m.test(head);
      queue = queue
        .then(() => (hold ? new Promise((r) => setTimeout(r, options.holdWaitMs ?? 0)) : undefined))
        .then(() => void engine.write(chunk));
    });
    engine.on("data", (chunk: Buffer) => client.write(chunk));
    engine.on("close", () => {
      if (!(attach && options.attachOpen)) client.destroy();
    });
    client.on("close", () => engine.destroy());
    client.on("error", () => engine.destroy());
    engine.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    close: () => {
      for (const client of clients) client.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A step of IMAGE whose run.sh is `script`. */
function quickStep(source: string, label: Record<string, string>, script: string) {
  return {
    image: IMAGE,
    env: {},
    labels: label,
    memoryBytes: 64 * 1024 ** 2,
    nanoCpus: 5e8,
    pidsLimit: 32,
    network: "none",
    files: {
      sourceDir: source,
      uid: 0,
      gid: 0,
      extra: [{ path: "run.sh", content: script, mode: 0o755 }],
    },
  };
}

test(
  "a step that exits at once is seen to exit however late the engine takes the wait",
  { timeout: 60_000 },
  async () => {
    const socket = await dockerSocketProxy({ holdWaitMs: 500 });
    const engine = new DockerEngine(new Docker({ socketPath: socket.path }), { bind: false });
    const source = mkdtempSync(join(tmpdir(), "kozmic-engine-src-"));
    const label = { "kozmic.test": randomUUID() };
    try {
      for (const exit of [0, 3]) {
        const id = await engine.createStep(
          stepSpec(IMAGE, `echo quick\nexit ${exit}\n`, source, label),
        );
        let out = "";
        assert.equal(await engine.runStep(id, (t) => (out += t)), exit);
        assert.equal(out, "quick\n");
        await engine.destroyStep(id);
      }
    } finally {
      await engine.removeLabelled(label);
      socket.close();
      rmSync(source, { recursive: true, force: true });
    }
  },
);

test(
  "a step whose output the engine leaves open after its exit ends with its exit code",
  { timeout: 60_000 },
  async () => {
    const socket = await dockerSocketProxy({ attachOpen: true });
    const engine = new DockerEngine(new Docker({ socketPath: socket.path }), { bind: false });
    const source = mkdtempSync(join(tmpdir(), "kozmic-engine-src-"));
    const label = { "kozmic.test": randomUUID() };
    try {
      const id = await engine.createStep(quickStep(source, label, "echo said\nexit 4\n"));
      let out = "";
      assert.equal(await engine.runStep(id, (t) => (out += t)), 4);
      assert.equal(out, "said\n");
      await engine.destroyStep(id);
    } finally {
      await engine.removeLabelled(label);
      socket.close();
      rmSync(source, { recursive: true, force: true });
    }
  },
);
