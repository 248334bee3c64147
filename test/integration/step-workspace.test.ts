// How a step's files reach its container, on the real Docker engine: bind-mounted as a
// directory this process wrote (root, local engine), or uploaded as an archive (every other
// engine, and when Docker cannot see the directory). Both must give the script user the
// same tree, keep the checkout untouched and leave nothing behind.
import { ran, shownLog } from "../support/shown-log.js";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { PermanentError } from "../../src/core/errors.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import Docker from "dockerode";
import type { ContainerSpec } from "../../runner/engine/docker-convert.js";
import type { Engine, StepSpec } from "../../runner/engine/port.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { processWorkspaces, removeProcessWorkspaces } from "../../runner/source/step-workspaces.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";

const docker = new DockerEngine();
const run = randomUUID().slice(0, 8);
const IMAGE = `kozmic-test/ws-${run}`;
const ROOT_IMAGE = `kozmic-test/ws-root-${run}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-ws-data-"));
const workspaces = join(dataDir, "steps-under-test");
const cacheRecords = openEmbeddedStore({ dataDir });
const repos: string[] = [];

/** The real engine, told that it cannot bind: the archive path. */
const archiveOnly = new DockerEngine(undefined, { bind: false });

/**
 * The real engine asked to mount a directory it cannot see (as an engine in another mount
 * namespace would be): Docker refuses the create, and the step must fall back.
 */
let refusedCreates = 0;
class UnseenDirectory extends DockerEngine {
  override createContainer(spec: ContainerSpec): Promise<string> {
    if (!spec.workspace) return super.createContainer(spec);
    refusedCreates++;
    return super.createContainer({ ...spec, workspace: `/nonexistent-${randomUUID()}` });
  }
}
const unseenDirectory = new UnseenDirectory();
const elsewhere = unseenDirectory;

before(() => {
  ensureBusyboxImage(IMAGE, { withKozmicUser: true });
  ensureBusyboxImage(ROOT_IMAGE);
});
after(async () => {
  for (const repo of repos) {
    for (const image of await docker.findImages({ "kozmic.cache.repo": repo }))
      await docker.removeImage(image.id);
  }
  removeImages(IMAGE, ROOT_IMAGE);
  await cacheRecords.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function newRepo(): { id: string; dir: string } {
  const id = `ws-${run}-${randomUUID().slice(0, 8)}`;
  repos.push(id);
  const dir = mkdtempSync(join(tmpdir(), "kozmic-ws-src-"));
  writeFileSync(join(dir, "deps.txt"), "left-pad 1.0\n");
  writeFileSync(join(dir, "run-me.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
  mkdirSync(join(dir, "nested", "deeper"), { recursive: true });
  writeFileSync(join(dir, "nested", "deeper", "file.txt"), "deep\n");
  symlinkSync("nested/deeper/file.txt", join(dir, "link"));
  return { id, dir };
}

interface JobOptions {
  secrets?: Record<string, string>;
  /** Default: this file's data directory, steps under `workspaces`. */
  settings?: PipelineSettings;
  signal?: AbortSignal;
  /** Hears each piece of the log as it is written. */
  onText?: (text: string) => void;
}

/** Runs a hook; nothing of it (container, volume, step directory) may be left after. */
async function job(
  engine: Engine,
  repo: { id: string; dir: string },
  hook: Partial<HookInput>,
  options: JobOptions = {},
): Promise<{ result: JobResult; log: string; steps: Set<string> }> {
  const { secrets, signal } = options;
  const settings = options.settings ?? testPipelineSettings(dataDir, { workspacesDir: workspaces });
  const parsed = hookSchema.parse({
    name: "ws",
    image: IMAGE,
    build: "true",
    ...hook,
    ...(secrets ? { secrets: Object.keys(secrets) } : {}),
  });
  let log = "";
  const steps = new Set<string>();
  const jobId = randomUUID();
  const result = await runJob(
    {
      jobId,
      repositoryId: repo.id,
      scope: "trusted",
      hook: parsed,
      sourceDir: repo.dir,
      trackedFiles: [],
      ...(secrets ? { secrets } : {}),
    },
    {
      engine,
      settings,
      cacheRecords,
      log: {
        write: (text) => {
          log += text;
          options.onText?.(text);
        },
        flush: async () => {},
      },
      timings: (step) => steps.add(step),
      ...(signal ? { signal } : {}),
    },
  );
  assert.deepEqual(await docker.listContainers({ "kozmic.job": jobId }), [], "no container left");
  const volumes = await new Docker().listVolumes({
    filters: JSON.stringify({ label: [`kozmic.job=${jobId}`] }),
  });
  assert.deepEqual(volumes.Volumes ?? [], [], "no volume left");
  const stepDirs = settings.workspacesDir ?? processWorkspaces(settings.dataDir);
  const left = existsSync(stepDirs) ? readdirSync(stepDirs) : [];
  assert.deepEqual(left, [], "no workspace directory left");
  return { result, log, steps };
}

// What the script user sees, and what it may do, in a step: each command and what it prints.
const INSPECTED: [string, ...(string | RegExp)[]][] = [
  ["id -u", "1000"],
  [
    "stat -c '%u:%g %a' /kozmic /kozmic/src /kozmic/src/run-me.sh /kozmic/src/nested/deeper/file.txt",
    "1000:1000 755",
    "1000:1000 755",
    "1000:1000 755",
    "1000:1000 644",
  ],
  ["readlink /kozmic/src/link", "nested/deeper/file.txt"],
  ["cat /kozmic/src/link", "deep"],
  ["./run-me.sh", "ran"],
  ["echo scribble > deps.txt && touch new-file && echo wrote", "wrote"],
  ["stat -c '%a %u' /kozmic/secrets/API_TOKEN", "400 1000"],
  ['echo "token=$API_TOKEN"', /token=\S+/],
];
const INSPECT = INSPECTED.map(([command]) => command).join("; ");
const EXPECTED = ran(...INSPECTED);

/** The engine, counting the steps it creates (not the probes of images' users). */
function countingSteps(engine: Engine): { engine: Engine; created: () => number } {
  let created = 0;
  const counting = new Proxy(engine, {
    get(target, property) {
      if (property === "createStep") {
        return (spec: StepSpec) => {
          created++;
          return target.createStep(spec);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { engine: counting, created: () => created };
}

/** A job that shows what the script user sees (INSPECT), with one secret. */
const inspectJob = (engine: Engine, repo: { id: string; dir: string }) =>
  job(engine, repo, { build: INSPECT }, { secrets: { API_TOKEN: "s3cret-value" } });

for (const [name, engine] of [
  ["bind-mounted directory", docker],
  ["archive upload", archiveOnly],
] as const) {
  test(`${name}: the script user owns a copy of the source, secrets are its 0400 files, the checkout is untouched`, async () => {
    if (engine === docker) assert.equal(await docker.bindsWorkspaces(), true, "tests run as root");
    const repo = newRepo();
    const { result, log, steps } = await inspectJob(engine, repo);
    assert.equal(result.conclusion, "success", log);
    assert.match(shownLog(log), EXPECTED);
    const bound = engine === docker;
    assert.equal(steps.has("source copy"), bound, [...steps].join(", "));
    assert.equal(steps.has("source upload"), !bound, [...steps].join(", "));
    assert.equal(readFileSync(join(repo.dir, "deps.txt"), "utf8"), "left-pad 1.0\n");
    assert.equal(existsSync(join(repo.dir, "new-file")), false);
  });

  test(`${name}: install and build each get a fresh copy; a root build's files are removed too`, async () => {
    const repo = newRepo();
    const { result, log } = await job(engine, repo, {
      user: "root",
      install: "echo from-install > /kozmic/src/deps.txt; mkdir -p /opt/x",
      build: "cat deps.txt; mkdir -p out && echo o > out/root-file && chmod 000 out",
    });
    assert.equal(result.conclusion, "success", log);
    assert.match(log, /^left-pad 1\.0$/m);
  });
}

test("a directory Docker cannot see: the step falls back to the archive and says nothing wrong", async () => {
  const repo = newRepo();
  refusedCreates = 0;
  assert.equal(await elsewhere.bindsWorkspaces(), true);
  const { result, log, steps } = await inspectJob(unseenDirectory, repo);
  assert.equal(result.conclusion, "success", log);
  assert.equal(refusedCreates, 1);
  assert.match(shownLog(log), EXPECTED);
  assert.ok(steps.has("source copy") && steps.has("source upload"), [...steps].join(", "));
  // The engine learned: later steps go straight to the archive.
  assert.equal(await elsewhere.bindsWorkspaces(), false);
  await job(unseenDirectory, repo, { build: "true" });
  assert.equal(refusedCreates, 1);
});

test("a FIFO in the source is refused by name, and nothing is left", async () => {
  for (const engine of [docker, archiveOnly]) {
    const repo = newRepo();
    execFileSync("mkfifo", [join(repo.dir, "nested", "pipe")]);
    await assert.rejects(
      job(engine, repo, { build: "true" }),
      (error: unknown) =>
        error instanceof PermanentError && /cannot pack nested\/pipe/.test(error.message),
    );
    const left = existsSync(workspaces) ? readdirSync(workspaces) : [];
    assert.deepEqual(left, []);
  }
});

test("the workspace directories are root's alone", async () => {
  const repo = newRepo();
  await job(docker, repo, { build: `stat -c %a /kozmic` });
  assert.equal(statSync(workspaces).mode & 0o777, 0o700);
});

test("kozmic run's workspaces: its own and those of processes that are gone are removed", async () => {
  const root = join(dataDir, "steps");
  const dead = execFileSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).trim();
  mkdirSync(join(root, `pid-${dead}`, "step-x"), { recursive: true });
  mkdirSync(join(root, `pid-${process.pid}`), { recursive: true });
  mkdirSync(join(root, "pid-1"), { recursive: true }); // alive: init
  writeFileSync(join(root, "not-a-workspace"), "");
  await removeProcessWorkspaces(dataDir);
  assert.deepEqual(readdirSync(root).sort(), ["not-a-workspace", "pid-1"]);
});

test("a miss builds in a fresh container of the committed install, bound or uploaded", async () => {
  for (const engine of [docker, archiveOnly]) {
    const repo = newRepo();
    const counting = countingSteps(engine);
    const { result, log } = await job(counting.engine, repo, {
      install: "echo installed > /opt/marker; echo INSTALL-OUT",
      build: "cat /opt/marker; echo BUILD-OUT",
    });
    assert.equal(result.conclusion, "success", log);
    assert.equal(result.cacheHit, false);
    assert.equal(counting.created(), 2, log);
    // The build starts after the commit, and its output comes after it.
    assert.match(
      shownLog(log),
      /\+ echo INSTALL-OUT\nINSTALL-OUT\n==> install committed[^]*\n==> build\n\+ cat \/opt\/marker\ninstalled\n\+ echo BUILD-OUT\nBUILD-OUT\n/,
    );
    assert.doesNotMatch(log, /kozmic-step-/, "the announcement never reaches the log");
  }
});

test("the build sees none of what the install left behind in /kozmic or running", async () => {
  const repo = newRepo();
  // The install vandalises /kozmic and leaves a process running; it must all be gone.
  const { result, log } = await job(docker, repo, {
    user: "root",
    install: [
      "echo junk > /kozmic/junk",
      "echo changed > /kozmic/src/deps.txt",
      "rm -rf /kozmic/src/nested",
      "echo tampered > /kozmic/next.sh 2>/dev/null || true",
      "(sleep 300 &)",
      "cd / && mv /kozmic/src /kozmic/moved && ln -s /etc /kozmic/src",
      "echo installed > /opt/marker",
    ].join("\n"),
    build: [
      'echo "$(ls -a /kozmic | tr "\\n" " ")"',
      "cat deps.txt nested/deeper/file.txt /opt/marker",
      "ps -o comm | grep -c '^sleep' || true",
    ].join("\n"),
  });
  assert.equal(result.conclusion, "success", log);
  // Kozmic's own files only: the helper, the script, the file its EXIT trap may write.
  assert.match(
    shownLog(log),
    ran(
      ['echo "$(ls -a /kozmic | tr "\\n" " ")"', ". .. failed-command run.sh script.sh src "],
      ["cat deps.txt nested/deeper/file.txt /opt/marker", "left-pad 1.0", "deep", "installed"],
      ["ps -o comm | grep -c '^sleep' || true", "0"],
    ),
  );
  assert.equal(existsSync("/etc/deps.txt"), false);
});

test("a miss's build that times out after the commit keeps the committed install", async () => {
  const repo = newRepo();
  const { result, log } = await job(docker, repo, {
    install: "echo installed > /opt/marker",
    build: "sleep 30",
    stall_timeout: 1,
  });
  assert.equal(result.conclusion, "timed_out", log);
  assert.match(log, /stall timeout/);
  const again = await job(docker, repo, {
    install: "echo installed > /opt/marker",
    build: "cat /opt/marker",
  });
  assert.equal(again.result.cacheHit, true, again.log);
});

test("step directories on a noexec mount: the step takes the archive, and the source's scripts still run", async (t) => {
  const mountPoint = mkdtempSync(join(tmpdir(), "kozmic-noexec-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs", mountPoint]);
  } catch {
    rmSync(mountPoint, { recursive: true, force: true });
    return t.skip("this machine cannot mount a tmpfs");
  }
  try {
    const repo = newRepo();
    const { result, log, steps } = await job(
      docker,
      repo,
      { build: "./run-me.sh" },
      { settings: testPipelineSettings(dataDir, { workspacesDir: join(mountPoint, "steps") }) },
    );
    assert.equal(result.conclusion, "success", log);
    assert.match(log, /^ran$/m);
    assert.ok(steps.has("source upload") && !steps.has("source copy"), [...steps].join(", "));
  } finally {
    execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

test("an install that adds the kozmic user: the miss's build runs as it, as the hit's will", async () => {
  const repo = newRepo();
  const hook = {
    image: ROOT_IMAGE,
    install: "echo 'kozmic:x:1000:1000::/home/kozmic:/bin/sh' >> /etc/passwd",
    build: "id -u",
  };
  const counting = countingSteps(docker);
  const miss = await job(counting.engine, repo, hook);
  assert.equal(miss.result.cacheHit, false, miss.log);
  assert.match(miss.log, /^1000$/m, "the build runs as the user the committed image gives");
  // The install ran as root: the build needs a new container, of the committed image.
  assert.equal(counting.created(), 2, miss.log);
  const hit = await job(docker, repo, hook);
  assert.equal(hit.result.cacheHit, true, hit.log);
  assert.match(hit.log, /^1000$/m);
});

test("a data directory inside the source (kozmic run's default ./.kozmic) is not part of the job's copy", async () => {
  for (const engine of [docker, archiveOnly]) {
    const repo = newRepo();
    const inside = join(repo.dir, ".kozmic");
    mkdirSync(inside);
    writeFileSync(join(inside, "kozmic.db"), "not the job's business");
    // Its own steps go under the data directory (pid-N); job() sees they are gone after.
    const { result, log } = await job(
      engine,
      repo,
      {
        install: "echo installed > /tmp/marker",
        build: "ls -a; test ! -e .kozmic && echo no-data-dir",
      },
      { settings: testPipelineSettings(inside) },
    );
    assert.equal(result.conclusion, "success", log);
    assert.match(log, /^no-data-dir$/m);
    assert.match(log, /^deps\.txt$/m, "the rest of the source is there");
  }
});

test("a stalled install times out and a cancelled one stops, nothing cached, nothing left", async () => {
  const repo = newRepo();
  const install = "echo started; sleep 30";
  const stalled = await job(docker, repo, { install, build: "true", stall_timeout: 1 });
  assert.equal(stalled.result.conclusion, "timed_out", stalled.log);
  assert.match(stalled.log, /stall timeout: no output for 1s/);
  const controller = new AbortController();
  const started = Date.now();
  const cancelled = await job(
    docker,
    repo,
    { install, build: "true" },
    {
      signal: controller.signal,
      onText: (text) => {
        if (text.includes("started")) controller.abort();
      },
    },
  );
  assert.equal(cancelled.result.conclusion, "cancelled", cancelled.log);
  assert.ok(Date.now() - started < 20_000, "the install was stopped, not waited for");
  assert.deepEqual(await docker.findImages({ "kozmic.cache.repo": repo.id }), [], "nothing cached");
});
