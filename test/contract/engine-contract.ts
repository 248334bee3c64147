import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InfrastructureError } from "../../src/core/errors.js";
import type { Engine, ServiceSpec, StepSpec } from "../../runner/engine/port.js";

/** What a step does, as each adapter is told it (a script for Docker, env for the fake). */
export interface Behaviour {
  output?: string;
  exit?: number;
  sleepSeconds?: number;
}

export interface EngineUnderTest {
  engine: Engine;
  /** An image on the engine with /etc/passwd and a shell. */
  image: string;
  /** The parts of a step spec that make it behave so. */
  behave: (behaviour: Behaviour) => Pick<StepSpec, "env"> & { extra: StepSpec["files"]["extra"] };
  /** Removes a step's container behind the engine's back, as another process might. */
  vanish: (stepId: string) => Promise<void>;
  /**
   * A service that prints "ready" and runs until removed, or (`exits`) stops at once; and a
   * health command that passes on it, printing "healthy".
   */
  service: (exits?: boolean) => Pick<ServiceSpec, "cmd" | "env">;
  health: string[];
  /** Where a bound step's directory may go; undefined: the adapter never binds. */
  scratchDir?: string;
  close?: () => Promise<void>;
}

/** The Engine port's contract, run unchanged on every adapter. */
export function defineEngineContract(name: string, open: () => Promise<EngineUnderTest>): void {
  describe(`Engine contract: ${name}`, () => {
    let t: EngineUnderTest;
    const label = { "kozmic.test": randomUUID() };
    const source = mkdtempSync(join(tmpdir(), "kozmic-engine-src-"));
    writeFileSync(join(source, "hello.txt"), "from the host\n");
    const images: string[] = [];
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t.engine.removeLabelled(label);
      for (const id of images) await t.engine.removeImage(id);
      await t.close?.();
      rmSync(source, { recursive: true, force: true });
    });

    const step = (behaviour: Behaviour): StepSpec => {
      const { env, extra } = t.behave(behaviour);
      return {
        image: t.image,
        env,
        labels: label,
        memoryBytes: 64 * 1024 ** 2,
        nanoCpus: 5e8,
        pidsLimit: 32,
        network: "none",
        files: { sourceDir: source, uid: 0, gid: 0, extra },
        ...(t.scratchDir ? { scratchDir: t.scratchDir } : {}),
      };
    };

    it("a step streams its output and ends with its exit code; destroy is idempotent", async () => {
      const id = await t.engine.createStep(step({ output: "hi", exit: 3 }));
      let out = "";
      assert.equal(await t.engine.runStep(id, (text) => (out += text)), 3);
      assert.equal(out, "hi\n");
      await t.engine.destroyStep(id);
      await t.engine.destroyStep(id);
      await t.engine.killStep(id);
      const left = await t.engine.listContainers(label);
      assert.deepEqual(
        left.filter((c) => c.id === id),
        [],
      );
    });

    it("killStep ends a running step, which is not an infrastructure error", async () => {
      const id = await t.engine.createStep(step({ output: "running", sleepSeconds: 300 }));
      try {
        // Killed once it has said it runs: its output is the proof, not a sleep.
        const running = t.engine.runStep(id, (text) => {
          if (text.includes("running")) void t.engine.killStep(id);
        });
        assert.notEqual(await running, 0);
      } finally {
        await t.engine.destroyStep(id);
      }
    });

    it("an exited step is committed with labels, found by them; its files are readable", async () => {
      const id = await t.engine.createStep(step({ output: "done" }));
      try {
        assert.equal(await t.engine.runStep(id, () => {}), 0);
        assert.match((await t.engine.readStepFile(id, "/etc/passwd")) ?? "", /^root:/m);
        const key = randomUUID();
        const image = await t.engine.commitStep(id, "kozmic-test/contract-commit", key, {
          "kozmic.test.key": key,
        });
        images.push(image);
        const found = await t.engine.findImages({ "kozmic.test.key": key });
        assert.deepEqual(
          found.map((i) => i.id),
          [image],
        );
      } finally {
        await t.engine.destroyStep(id);
      }
    });

    it("a step whose container is removed under it is an InfrastructureError", async () => {
      const id = await t.engine.createStep(step({ output: "started", sleepSeconds: 300 }));
      try {
        let vanished: Promise<void> | undefined;
        const running = t.engine.runStep(id, (text) => {
          if (text.includes("started")) vanished ??= t.vanish(id);
        });
        await assert.rejects(running, InfrastructureError);
        await vanished;
      } finally {
        await t.engine.destroyStep(id);
      }
    });

    it("an image's file is read without running it; a missing image is undefined, its pull fails", async () => {
      assert.match((await t.engine.readImageFile(t.image, "/etc/passwd", label)) ?? "", /^root:/m);
      assert.equal(await t.engine.inspectImage(`kozmic-test/missing-${randomUUID()}`), undefined);
      await assert.rejects(
        t.engine.pullImage(`kozmic-test/missing-${randomUUID().slice(0, 8)}`),
        InfrastructureError,
      );
    });

    it("a service runs on a job's network, answers checks, and goes with its network by label", async () => {
      const network = `kozmic-test-${randomUUID().slice(0, 12)}`;
      await t.engine.createNetwork({ name: network, labels: label, internal: true });
      assert.equal(await t.engine.hasNetwork(network), true);
      assert.deepEqual(await t.engine.listNetworks(label), [network]);
      const spec = (exits?: boolean): ServiceSpec => ({
        image: t.image,
        ...t.service(exits),
        labels: label,
        memoryBytes: 64 * 1024 ** 2,
        nanoCpus: 5e8,
        pidsLimit: 32,
        network,
        alias: "db",
      });
      let said = "";
      let ready!: () => void;
      const saidReady = new Promise<void>((resolve) => (ready = resolve));
      const service = await t.engine.startService(spec(), (text) => {
        said += text;
        if (said.includes("ready")) ready();
      });
      await saidReady;
      const check = await t.engine.execInService(service, t.health, 100);
      assert.deepEqual(check, { exitCode: 0, output: "healthy\n" });
      const failing = await t.engine.execInService(service, ["/bin/sh", "-c", "exit 3"], 100);
      assert.equal(failing?.exitCode, 3);
      const stopped = await t.engine.startService(spec(true), () => {});
      // It stops at once: a check finds it not running (at the latest once it has stopped).
      let stoppedCheck: unknown = {};
      for (let i = 0; i < 100 && stoppedCheck !== undefined; i++) {
        stoppedCheck = await t.engine.execInService(stopped, t.health, 100);
      }
      assert.equal(stoppedCheck, undefined);
      const listed = (await t.engine.listContainers(label)).map((c) => c.id);
      assert.ok(listed.includes(service) && listed.includes(stopped));
      await t.engine.removeLabelled(label);
      assert.deepEqual(await t.engine.listContainers(label), []);
      assert.deepEqual(await t.engine.listNetworks(label), []);
      assert.equal(await t.engine.hasNetwork(network), false);
      assert.equal(await t.engine.execInService(service, t.health, 100), undefined);
      await t.engine.removeService(service);
      await t.engine.removeNetwork(network);
    });

    it("says which networks it has: host and none always, a made-up name never", async () => {
      assert.equal(await t.engine.hasNetwork("host"), true);
      assert.equal(await t.engine.hasNetwork("none"), true);
      assert.equal(await t.engine.hasNetwork(`kozmic-no-such-network-${randomUUID()}`), false);
    });
  });
}
