import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { resolveTrackedFiles } from "../../runner/source/resolve-tracked-files.js";
import {
  buildDebFixture,
  DEBIAN_SUDO_IMAGE as IMAGE,
  ensureDebianSudoImage,
} from "../support/debian-image.js";
import { ran, shownLog } from "../support/shown-log.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import { startSecondDockerd } from "../support/second-dockerd.js";

/**
 * Real CI images: Debian bookworm with a `kozmic` user that has passwordless sudo. The same
 * pipeline tests run on the machine's engine and on a second, user-namespace-remapped one.
 */
// An install as CI images are used: packages with sudo dpkg, files under /usr/local with sudo.
const INSTALL = [
  "echo INSTALLING",
  "sudo dpkg -i kozmic-hello_1.0_all.deb",
  "echo 'tool v1' | sudo tee /usr/local/share/kozmic-tool.txt >/dev/null",
  "sudo mkdir -p /usr/local/lib/kozmic && sudo cp requirements.txt /usr/local/lib/kozmic/",
].join("\n");
const TOOL_FILES = "cat /usr/local/share/kozmic-tool.txt /usr/local/lib/kozmic/requirements.txt";
const BUILD = [
  "kozmic-hello",
  TOOL_FILES,
  'echo "user=$(id -un) src-owner=$(stat -c %U /kozmic/src) home=$HOME"',
  "touch /kozmic/src/build-output && echo src-writable",
].join("\n");
// A build that starts a daemon as root through sudo and talks to it over loopback.
const DAEMON = [
  "sudo start-stop-daemon --start --background --make-pidfile --pidfile /run/pong.pid \\",
  "  --exec /bin/sh -- -c 'while true; do echo \"pong from $(id -un)\" | nc -l -N 127.0.0.1 7070; done'",
  'for i in $(seq 1 300); do reply=$(nc -N 127.0.0.1 7070 </dev/null 2>/dev/null) && [ -n "$reply" ] && break; sleep 0.1; done',
  'echo "daemon said: $reply"',
  'ps -o user= -p "$(cat /run/pong.pid)"',
].join("\n");

interface Target {
  name: string;
  engine: DockerEngine;
  /** The same engine uploading every step's files, where `engine` binds them. */
  uploading?: DockerEngine;
  records: Store;
  dataDir: string;
  stop?: () => Promise<void>;
}

function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-debian-src-"));
  buildDebFixture(dir, "kozmic-hello");
  writeFileSync(join(dir, "requirements.txt"), "redis==5.0\n");
  return dir;
}

async function runOn(
  target: Target,
  dir: string,
  hook: Partial<HookInput>,
  settings: Partial<PipelineSettings> = {},
  repositoryId = `debian-${randomUUID().slice(0, 8)}`,
): Promise<{ result: JobResult; log: string }> {
  const parsed = hookSchema.parse({
    name: "test",
    image: IMAGE,
    network: "none",
    build: "true",
    ...hook,
  });
  let log = "";
  const result = await runJob(
    {
      jobId: randomUUID(),
      repositoryId,
      scope: "trusted",
      hook: parsed,
      sourceDir: dir,
      trackedFiles: await resolveTrackedFiles(dir, parsed.tracked_files),
    },
    {
      engine: target.engine,
      settings: testPipelineSettings(target.dataDir, {
        defaultMemoryBytes: 512 * 1024 ** 2,
        ...settings,
      }),
      cacheRecords: target.records,
      log: { write: (t) => void (log += t), flush: async () => {} },
    },
  );
  return { result, log };
}

function suite(name: string, open: () => Promise<Target>): void {
  describe(name, () => {
    let target: Target;
    const dirs: string[] = [];
    const repo = () => {
      const dir = repository();
      dirs.push(dir);
      return dir;
    };
    before(async () => {
      target = await open();
    });
    after(async () => {
      await target.records.close();
      for (const image of await target.engine.findImages({ "kozmic.cache": "true" })) {
        if (image.labels["kozmic.cache.repo"]?.startsWith("debian-")) {
          await target.engine.removeImage(image.id);
        }
      }
      for (const dir of [...dirs, target.dataDir]) rmSync(dir, { recursive: true, force: true });
      await target.stop?.();
    });

    it("an install with sudo dpkg -i and sudo writes under /usr/local is cached; the next job hits and finds both", async () => {
      const dir = repo();
      const repositoryId = `debian-${randomUUID().slice(0, 8)}`;
      const hook = { install: INSTALL, build: BUILD, tracked_files: ["requirements.txt"] };
      const first = await runOn(target, dir, hook, {}, repositoryId);
      assert.equal(first.result.conclusion, "success", first.log);
      assert.equal(first.result.cacheHit, false);
      assert.match(first.log, /^INSTALLING$/m);
      assert.match(first.log, /==> {3}why: no cached install yet for this hook/);
      const second = await runOn(target, dir, hook, {}, repositoryId);
      assert.equal(second.result.conclusion, "success", second.log);
      assert.equal(second.result.cacheHit, true, second.log);
      assert.doesNotMatch(second.log, /INSTALLING/);
      assert.match(second.log, /^kozmic-hello works$/m);
      assert.match(shownLog(second.log), ran([TOOL_FILES, "tool v1", "redis==5.0"]));
      assert.match(second.log, /^user=kozmic src-owner=kozmic home=\/home\/kozmic$/m);
      assert.match(second.log, /^src-writable$/m);
      assert.doesNotMatch(first.log + second.log, /unable to resolve host/);
      writeFileSync(join(dir, "requirements.txt"), "redis==5.1\n");
      const third = await runOn(target, dir, hook, {}, repositoryId);
      assert.equal(third.result.cacheHit, false);
      assert.match(third.log, /==> {3}why: tracked file changed: requirements\.txt/);
      assert.match(shownLog(third.log), ran([TOOL_FILES, "tool v1", "redis==5.1"]));
    });

    it("what the install started with sudo is gone in the build, on a miss as on a hit, bound or uploaded", async () => {
      const hook = {
        install: "sudo sh -c 'sleep 600 > /dev/null 2>&1 &'",
        build: "if ps -eo comm | grep -q '^sleep'; then echo SURVIVED; else echo GONE; fi",
      };
      const engines = [target.engine, ...(target.uploading ? [target.uploading] : [])];
      for (const engine of engines) {
        const repositoryId = `debian-${randomUUID().slice(0, 8)}`;
        const dir = repo();
        const on = { ...target, engine };
        const miss = await runOn(on, dir, hook, {}, repositoryId);
        const hit = await runOn(on, dir, hook, {}, repositoryId);
        assert.equal(miss.result.cacheHit, false, miss.log);
        assert.equal(hit.result.cacheHit, true, hit.log);
        assert.match(miss.log, /^GONE$/m, miss.log);
        assert.match(hit.log, /^GONE$/m, hit.log);
      }
    });

    it("a build starts a daemon through sudo and talks to it", async () => {
      const { result, log } = await runOn(target, repo(), { build: DAEMON });
      assert.equal(result.conclusion, "success", log);
      assert.match(log, /^daemon said: pong from root$/m);
      assert.match(log, /^root$/m);
    });

    it("user: root, and a named user without sudo", async () => {
      const probe = "id -un; stat -c %U /kozmic/src; touch /kozmic/src/x && echo writable";
      const root = await runOn(target, repo(), { user: "root", build: probe });
      assert.equal(root.result.conclusion, "success", root.log);
      const probed = (user: string) =>
        [
          ["id -un", user],
          ["stat -c %U /kozmic/src", user],
          ["touch /kozmic/src/x && echo writable", "writable"],
        ] as const;
      assert.match(shownLog(root.log), ran(...probed("root")));
      const builder = await runOn(target, repo(), {
        user: "builder",
        build: `${probe}\nsudo -n true 2>/dev/null && echo SUDO-OK || echo no-sudo`,
      });
      assert.equal(builder.result.conclusion, "success", builder.log);
      assert.match(
        shownLog(builder.log),
        ran(...probed("builder"), [
          "sudo -n true 2>/dev/null && echo SUDO-OK || echo no-sudo",
          "no-sudo",
        ]),
      );
    });

    it("KOZMIC_NO_NEW_PRIVILEGES=true refuses sudo, and the log names the setting", async () => {
      const { result, log } = await runOn(
        target,
        repo(),
        { install: INSTALL, build: BUILD },
        { noNewPrivileges: true },
      );
      assert.equal(result.conclusion, "failure", log);
      assert.match(log, /"no new privileges" flag is set/);
      assert.match(
        log,
        /sudo was refused because KOZMIC_NO_NEW_PRIVILEGES=true is set on this runner/,
      );
      assert.match(
        log,
        /\n==> install failed: "sudo dpkg -i kozmic-hello_1\.0_all\.deb" exited with 1; nothing cached\n/,
      );
    });
  });
}

suite("Debian image with sudo, on the machine's Docker engine", async () => {
  ensureDebianSudoImage();
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-debian-data-"));
  return {
    name: "default",
    engine: new DockerEngine(),
    uploading: new DockerEngine(undefined, { bind: false }),
    records: openEmbeddedStore({ dataDir }),
    dataDir,
  };
});

suite("Debian image with sudo, on a user-namespace-remapped Docker engine", async () => {
  const second = await startSecondDockerd({ usernsRemap: true });
  ensureDebianSudoImage({ dockerHost: second.dockerHost });
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-debian-userns-"));
  return {
    name: "userns",
    engine: new DockerEngine(new Docker({ socketPath: second.socketPath })),
    records: openEmbeddedStore({ dataDir }),
    dataDir,
    stop: second.stop,
  };
});
