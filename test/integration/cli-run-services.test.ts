import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { runKozmic } from "../support/kozmic-cli.js";

// `kozmic run` with services, through the compiled CLI, on the real engine: a service reached
// at its name, one that never becomes healthy, and nothing of either left behind.
const IMAGE = `kozmic-test/cli-services-${randomUUID().slice(0, 8)}`;
const work = mkdtempSync(join(tmpdir(), "kozmic-cli-services-"));

before(() => ensureBusyboxImage(IMAGE, { withKozmicUser: true }));
after(() => {
  removeImages(IMAGE);
  rmSync(work, { recursive: true, force: true });
});

/** A project whose hook has one service, `web`: busybox's httpd serving /etc. */
function project(health: string, build: string): string {
  const dir = mkdtempSync(join(work, "project-"));
  mkdirSync(join(dir, ".github"));
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    `hooks:
  - name: test
    image: ${IMAGE}
    build: ${JSON.stringify(build)}
    services:
      web:
        image: ${IMAGE}
        command: [httpd, -f, -v, -p, "8080", -h, /etc]
        health: ${JSON.stringify(health)}
        health_timeout: 3s
`,
  );
  return dir;
}

async function kozmicRun(dir: string) {
  const run = await runKozmic(["run", dir], {
    env: { ...process.env, KOZMIC_DATA_DIR: join(work, "data") },
  });
  return { code: run.code, output: run.stdout + run.stderr };
}

/** What of the job is still there: its network, and containers of the test's image. */
function leftOf(output: string): string[] {
  const network = /==> network (kozmic-job-\S+)/.exec(output)?.[1];
  assert.ok(network, output);
  const networks = execFileSync("docker", ["network", "ls", "-q", "--filter", `name=${network}`], {
    encoding: "utf8",
  });
  const containers = execFileSync("docker", ["ps", "-aq", "--filter", `ancestor=${IMAGE}`], {
    encoding: "utf8",
  });
  return [...networks.split("\n"), ...containers.split("\n")].filter(Boolean);
}

test("the build reaches its service at the service's name once the health check passed", async () => {
  const dir = project(
    "wget -q -O /dev/null http://127.0.0.1:8080/passwd",
    "wget -q -O - http://web:8080/passwd | grep ^kozmic:",
  );
  const { code, output } = await kozmicRun(dir);
  assert.equal(code, 0, output);
  assert.match(output, /^kozmic:x:1000:1000:/m);
  assert.match(output, /==> service web: healthy after \d+\.\ds \(\d+ checks\)/);
  assert.match(output, /▶ Services' output\n==> output of service web\n/);
  assert.deepEqual(leftOf(output), []);
});

test("a service that never becomes healthy fails the run with its name and last output", async () => {
  const dir = project("echo not listening yet; exit 1", "echo build-ran");
  const { code, output } = await kozmicRun(dir);
  assert.equal(code, 1, output);
  assert.match(
    output,
    /==> service web never became healthy in 3s: `echo not listening yet; exit 1` last exited 1: not listening yet\n/,
  );
  assert.doesNotMatch(output, /build-ran/);
  assert.deepEqual(leftOf(output), []);
});
