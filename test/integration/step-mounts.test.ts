// Container root writes into a bound step's /kozmic, a directory of the host: what it makes
// there (a setuid shell, a device node) must give nothing on the host.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema } from "../../src/core/config/schema.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { mountPointsUnder } from "../../runner/engine/step-mounts.js";
import { runJob } from "../../runner/pipeline/run-job.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

const IMAGE = `kozmic-test/step-mounts-${randomUUID().slice(0, 8)}`;
// Not under /tmp, which some machines mount nosuid,nodev already: the test must not pass by it.
const dataDir = mkdtempSync(join("/var/tmp", "kozmic-step-mounts-"));
const workspaces = join(dataDir, "steps-under-test");
const records = openEmbeddedStore({ dataDir });

before(() => ensureBusyboxImage(IMAGE));
after(async () => {
  removeImages(IMAGE);
  await records.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const ATTACK = [
  "cp /bin/busybox /kozmic/rootshell && chmod 4755 /kozmic/rootshell",
  "mknod /kozmic/null-dev c 1 3 && chmod 666 /kozmic/null-dev",
  "echo PLANTED",
  "sleep 300",
].join("\n");

test("container root's setuid shell and device node in a bound /kozmic are inert on the host", async () => {
  const engine = new DockerEngine();
  assert.equal(await engine.bindsWorkspaces(), true, "tests run as root on a local engine");
  const controller = new AbortController();
  let seen: { options: string; deviceOpen: string; setuid: boolean } | undefined;
  let log = "";
  const result = await runJob(
    {
      jobId: randomUUID(),
      repositoryId: `step-mounts-${randomUUID().slice(0, 8)}`,
      scope: "trusted",
      hook: hookSchema.parse({ name: "attack", image: IMAGE, user: "root", build: ATTACK }),
      sourceDir: mkdtempSync(join(tmpdir(), "kozmic-step-mounts-src-")),
      trackedFiles: [],
    },
    {
      engine,
      settings: testPipelineSettings(dataDir, { workspacesDir: workspaces }),
      cacheRecords: records,
      signal: controller.signal,
      log: {
        write: (text) => {
          log += text;
          if (!text.includes("PLANTED") || seen) return;
          const [step] = readdirSync(workspaces);
          const dir = join(workspaces, step!);
          let deviceOpen = "opened";
          try {
            openSync(join(dir, "null-dev"), "w");
          } catch (error) {
            deviceOpen = (error as NodeJS.ErrnoException).code ?? "failed";
          }
          seen = {
            options: execFileSync("findmnt", ["-n", "-o", "OPTIONS", "--target", dir], {
              encoding: "utf8",
            }),
            deviceOpen,
            setuid: (statSync(join(dir, "rootshell")).mode & 0o4000) !== 0,
          };
          controller.abort();
        },
        flush: async () => {},
      },
    },
  );
  assert.equal(result.conclusion, "cancelled", log);
  assert.ok(seen, log);
  assert.equal(seen.setuid, true, "the attack made its setuid shell");
  assert.match(seen.options, /(^|,)nosuid(,|$)/, "the host does not honour its setuid bit");
  assert.match(seen.options, /(^|,)nodev(,|$)/);
  assert.equal(seen.deviceOpen, "EACCES", "the device node cannot be opened on the host");
  const mountinfo = execFileSync("cat", ["/proc/self/mountinfo"], { encoding: "utf8" });
  assert.deepEqual(mountPointsUnder(mountinfo, workspaces), [], "the step's mount is gone");
});
