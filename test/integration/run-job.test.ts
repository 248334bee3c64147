import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hookSchema, type HookInput } from "../../src/core/config/schema.js";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import { computeCacheKey, type TrustScope } from "../../src/core/cache-key.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { cacheRepository } from "../../runner/cache/cache-images.js";
import { runJob, type JobResult } from "../../runner/pipeline/run-job.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { ensureBusyboxImage, rebuildBusyboxImage, removeImages } from "../support/images.js";
import { testPipelineSettings } from "../support/pipeline-settings.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { ran, shownLog } from "../support/shown-log.js";

const engine = new DockerEngine();
const defaultEngine = engine;
/** Uploads each step's /kozmic to a volume instead of bind-mounting a directory. */
const uploadingEngine = new DockerEngine(undefined, { bind: false });
const run = randomUUID().slice(0, 8);
const KOZMIC_IMAGE = `kozmic-test/pj-kozmic-${run}`;
const ROOT_IMAGE = `kozmic-test/pj-root-${run}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-data-"));
const settings: PipelineSettings = testPipelineSettings(dataDir);
const repos: string[] = [];
const cacheRecords = openEmbeddedStore({ dataDir });

before(() => {
  ensureBusyboxImage(KOZMIC_IMAGE, { withKozmicUser: true });
  ensureBusyboxImage(ROOT_IMAGE);
});

after(async () => {
  for (const repo of repos) {
    for (const image of await engine.findImages({ "kozmic.cache.repo": repo }))
      await engine.removeImage(image.id);
  }
  removeImages(KOZMIC_IMAGE, ROOT_IMAGE);
  await cacheRecords.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function newRepo(): { id: string; dir: string } {
  const id = `test-${run}-${randomUUID().slice(0, 8)}`;
  repos.push(id);
  const dir = mkdtempSync(join(tmpdir(), "kozmic-src-"));
  writeFileSync(join(dir, "deps.txt"), "left-pad 1.0\n");
  return { id, dir };
}

function digests(dir: string, paths: string[]) {
  return paths.map((path) => ({
    path,
    digest: existsSync(join(dir, path))
      ? createHash("sha256")
          .update(readFileSync(join(dir, path)))
          .digest("hex")
      : "missing",
  }));
}

async function job(
  repo: { id: string; dir: string },
  hook: Partial<HookInput>,
  extra: {
    scope?: TrustScope;
    fork?: string;
    signal?: AbortSignal;
    settings?: Partial<PipelineSettings>;
    engine?: DockerEngine;
    /** Told the whole log so far at each write. */
    onLog?: (log: string) => void;
  } = {},
): Promise<{ result: JobResult; log: string; jobId: string }> {
  const engine = extra.engine ?? defaultEngine;
  const parsed = hookSchema.parse({ name: "test", image: KOZMIC_IMAGE, build: "true", ...hook });
  let log = "";
  const jobId = randomUUID();
  const result = await runJob(
    {
      jobId,
      repositoryId: repo.id,
      scope: extra.scope ?? "trusted",
      ...(extra.scope === "untrusted" ? { fork: extra.fork ?? "repo-1" } : {}),
      hook: parsed,
      sourceDir: repo.dir,
      trackedFiles: digests(repo.dir, parsed.tracked_files),
    },
    {
      engine,
      settings: { ...settings, ...extra.settings },
      cacheRecords,
      log: {
        write: (t) => {
          log += t;
          extra.onLog?.(log);
        },
        flush: async () => {},
      },
      ...(extra.signal ? { signal: extra.signal } : {}),
    },
  );
  const left = await engine.listContainers({ "kozmic.job": jobId });
  assert.deepEqual(left, [], "no container may be left behind");
  return { result, log, jobId };
}

const INSTALL = "echo INSTALLING; echo installed > /opt/marker; echo junk > /kozmic/junk";
const BUILD = "cat /opt/marker; test ! -e /kozmic/junk; cat deps.txt";

test("cache miss then hit: the install runs once and its result is in the build image", async () => {
  const repo = newRepo();
  const hook = { install: INSTALL, build: BUILD, tracked_files: ["deps.txt"] };
  const first = await job(repo, hook);
  assert.equal(first.result.conclusion, "success", first.log);
  assert.equal(first.result.cacheHit, false);
  assert.match(first.log, /cache miss [0-9a-f]{64}/);
  assert.match(shownLog(first.log), /^INSTALLING$/m);
  assert.match(
    shownLog(first.log),
    ran(
      ["cat /opt/marker", "installed"],
      ["test ! -e /kozmic/junk"],
      ["cat deps.txt", "left-pad 1.0"],
    ),
  );
  assert.doesNotMatch(
    first.log,
    /kozmic: warning/,
    "it wrote under /opt and /kozmic, not /kozmic/src",
  );
  const images = await engine.findImages({ "kozmic.cache.repo": repo.id });
  assert.deepEqual(
    images.map((i) => [i.tags, i.labels["kozmic.cache.hook"], i.labels["kozmic.cache.scope"]]),
    [[[`${cacheRepository(repo.id)}:${first.result.cacheKey}`], "test", "trusted"]],
  );
  const second = await job(repo, hook);
  assert.equal(second.result.conclusion, "success", second.log);
  assert.equal(second.result.cacheHit, true);
  assert.equal(second.result.cacheKey, first.result.cacheKey);
  assert.match(second.log, new RegExp(`install skipped: cache hit ${first.result.cacheKey}`));
  assert.doesNotMatch(second.log, /INSTALLING/);
  assert.match(
    shownLog(second.log),
    ran(
      ["cat /opt/marker", "installed"],
      ["test ! -e /kozmic/junk"],
      ["cat deps.txt", "left-pad 1.0"],
    ),
  );
});

test("each key input invalidates the cache", async () => {
  const repo = newRepo();
  const hook = { install: INSTALL, build: BUILD, tracked_files: ["deps.txt"] };
  const keys = new Set<string>();
  // Each miss says why, in the log and in the result the check run shows.
  const expectMiss = async (h: Partial<HookInput>, why: RegExp) => {
    const { result, log } = await job(repo, h);
    assert.equal(result.cacheHit, false, `${String(why)}: ${log}`);
    assert.match(log, new RegExp(`==>   why: ${why.source}`), log);
    assert.ok(
      result.cacheMissReasons?.some((r) => why.test(r)),
      String(result.cacheMissReasons),
    );
    keys.add(result.cacheKey!);
  };
  await expectMiss(hook, /no cached install yet for this hook/);
  await expectMiss({ ...hook, install: INSTALL + " " }, /the install script changed/);
  writeFileSync(join(repo.dir, "deps.txt"), "left-pad 2.0\n");
  await expectMiss(hook, /tracked file changed: deps.txt/);
  rmSync(join(repo.dir, "deps.txt"));
  await expectMiss({ ...hook, build: "cat /opt/marker" }, /tracked file disappeared: deps.txt/);
  const image = `kozmic-test/pj-rebuilt-${run}`;
  try {
    const one = ensureBusyboxImage(image, { marker: "one" });
    await expectMiss(
      { ...hook, image, build: "cat /opt/marker" },
      new RegExp(
        `base image: image changed from ${KOZMIC_IMAGE} to ${image} \\(sha256:\\w+ → ${one}\\)`,
      ),
    );
    const two = rebuildBusyboxImage(image, { marker: "two" });
    await expectMiss(
      { ...hook, image, build: "cat /opt/marker" },
      new RegExp(`base image: ${image} now points to another image \\(${one} → ${two}\\)`),
    );
  } finally {
    removeImages(image);
  }
  assert.equal(keys.size, 6);
});

test("a failing install fails the job, caches nothing and leaves no container", async () => {
  const repo = newRepo();
  const { result, log } = await job(repo, {
    install: "echo partial > /opt/x; exit 7",
    build: "true",
  });
  assert.equal(result.conclusion, "failure");
  assert.equal(result.exitCode, 7);
  assert.match(log, /install failed with exit code 7; nothing cached/);
  assert.doesNotMatch(log, /kozmic: warning/);
  assert.deepEqual(await engine.findImages({ "kozmic.cache.repo": repo.id }), []);
});

test("a failing build echoes its commands as written and names the one that failed", async () => {
  const repo = newRepo();
  const build = [
    "echo start",
    "if true; then",
    "  echo inside",
    "fi",
    'printf "%s\\n" "$HOME" >/dev/null; sh -c \'echo oops >&2; exit 4\'',
    "echo never",
  ].join("\n");
  for (const engine of [defaultEngine, uploadingEngine]) {
    const { result, log } = await job(repo, { build }, { engine });
    assert.equal(result.exitCode, 4);
    const shown = shownLog(log);
    assert.ok(
      shown.includes(
        "+ echo start\nstart\n+ if true; then\n    echo inside\n  fi\ninside\n" +
          '+ printf "%s\\n" "$HOME" >/dev/null\n' +
          "+ sh -c 'echo oops >&2; exit 4'\noops\n" +
          "==> build failed: \"sh -c 'echo oops >&2; exit 4'\" exited with 4\n",
      ),
      shown,
    );
    assert.doesNotMatch(shown, /never/);
    assert.ok(log.includes("\x1b[22;2m+ echo start\x1b[0m\n"), "echoes are dim");
  }
  const quiet = await job(repo, { build, echo: false });
  assert.ok(
    shownLog(quiet.log).includes("start\ninside\noops\n==> build exit code 4\n"),
    quiet.log,
  );
  const traced = await job(repo, { build: "#!/bin/sh -x\necho traced\nfalse" });
  assert.ok(
    shownLog(traced.log).includes("+ echo traced\ntraced\n+ false\n==> build exit code 1\n"),
  );
});

test("a failing install names its failed command", async () => {
  const repo = newRepo();
  const { result, log } = await job(repo, { install: "true\nsh -c 'exit 7'", build: "true" });
  assert.equal(result.exitCode, 7);
  assert.match(log, /\n==> install failed: "sh -c 'exit 7'" exited with 7; nothing cached\n/);
});

test("an install that writes into /kozmic/src is told that the build will not have it", async () => {
  const repo = newRepo();
  // What `install: npm ci` does: node_modules in the working tree, which is never cached.
  const { result, log } = await job(repo, {
    install:
      "mkdir -p node_modules/.bin 'my env'; echo x > 'my env/f'; " +
      "dd if=/dev/zero of=node_modules/big bs=1024 count=2200 2>/dev/null; " +
      "echo '#!/bin/sh' > node_modules/.bin/eslint",
    build: "test -e node_modules/.bin/eslint",
  });
  assert.match(
    log,
    /\nkozmic: warning: this install wrote \/kozmic\/src\/node_modules \(2\.\d MiB\) and 1 more new entry, which the install cache does not keep: the build will not have it\. Install outside \/kozmic/,
  );
  assert.ok(log.indexOf("kozmic: warning") < log.indexOf("install committed"), log);
  assert.equal(result.conclusion, "failure", "the build runs without them, as the warning says");
});

test("the build's exit code decides the conclusion", async () => {
  const repo = newRepo();
  const failed = await job(repo, { build: "echo before; exit 3" });
  assert.equal(failed.result.conclusion, "failure");
  assert.equal(failed.result.exitCode, 3);
  assert.match(failed.log, /before\n.*build exit code 3/s);
  const ok = await job(repo, { build: "true" });
  assert.equal(ok.result.conclusion, "success");
  assert.equal(ok.result.exitCode, 0);
});

test("scripts run as the kozmic user when the image has one, and own /kozmic/src", async () => {
  const repo = newRepo();
  const withUser = await job(repo, { build: "id -u; touch /kozmic/src/new && echo writable" });
  assert.match(
    shownLog(withUser.log),
    ran(["id -u", "1000"], ["touch /kozmic/src/new && echo writable", "writable"]),
  );
  const rootOnly = await job(repo, { image: ROOT_IMAGE, build: "id -u" });
  assert.match(shownLog(rootOnly.log), ran(["id -u", "0"]));
});

test("without a kozmic user, scripts run as the image's default user and own /kozmic/src", async () => {
  const repo = newRepo();
  const image = `kozmic-test/pj-user2000-${run}`;
  const probe = execFileSync("docker", ["create", ROOT_IMAGE, "true"], { encoding: "utf8" }).trim();
  try {
    execFileSync("docker", ["commit", "--change", "USER 2000", probe, image], { stdio: "ignore" });
  } finally {
    execFileSync("docker", ["rm", "-f", probe], { stdio: "ignore" });
  }
  try {
    const { result, log } = await job(repo, {
      image,
      build: "id -u; touch /kozmic/src/new && echo writable",
    });
    assert.equal(result.conclusion, "success", log);
    assert.match(
      shownLog(log),
      ran(["id -u", "2000"], ["touch /kozmic/src/new && echo writable", "writable"]),
    );
  } finally {
    removeImages(image);
  }
});

test("job timeout and stall timeout end the job as timed_out and say which", async () => {
  const repo = newRepo();
  const whole = await job(repo, {
    build: "while true; do echo tick; sleep 0.2; done",
    timeout: "2s",
  });
  assert.equal(whole.result.conclusion, "timed_out");
  assert.match(whole.log, /timed out: job timeout reached/);
  const stall = await job(repo, { build: "echo once; sleep 60", stall_timeout: "1s" });
  assert.equal(stall.result.conclusion, "timed_out");
  assert.match(stall.log, /timed out: stall timeout: no output for 1s/);
});

test("an abort signal cancels the job without waiting for the build", async () => {
  const repo = newRepo();
  const controller = new AbortController();
  // Aborted once the build has printed its first line: the build is running. Had the abort
  // waited for the build, it would have ended after ten minutes, not cancelled.
  const { result, log } = await job(
    repo,
    { build: "echo started; sleep 600" },
    {
      signal: controller.signal,
      onLog: (text) => {
        if (/^started$/m.test(text)) controller.abort();
      },
    },
  );
  assert.equal(result.conclusion, "cancelled");
  assert.match(log, /^started$[\s\S]*==> cancelled/m);
});

test("two concurrent jobs with one missing key install once", async () => {
  const repo = newRepo();
  const hook = { install: INSTALL + "; sleep 1", build: "cat /opt/marker" };
  const [a, b] = await Promise.all([job(repo, hook), job(repo, hook)]);
  assert.equal(a.result.conclusion, "success");
  assert.equal(b.result.conclusion, "success");
  assert.equal(shownLog(a.log + b.log).match(/^INSTALLING$/gm)?.length, 1);
  assert.deepEqual([a.result.cacheHit, b.result.cacheHit].sort(), [false, true]);
});

test("a repository never uses another repository's cache", async () => {
  const hook = { install: INSTALL, build: "cat /opt/marker" };
  const a = await job(newRepo(), hook);
  const b = await job(newRepo(), hook);
  assert.equal(a.result.cacheHit, false);
  assert.equal(b.result.cacheHit, false);
});

test("untrusted jobs read the trusted cache but never write to it", async () => {
  const repo = newRepo();
  const hook = { install: INSTALL, build: "cat /opt/marker" };
  const untrustedFirst = await job(repo, hook, { scope: "untrusted" });
  assert.equal(untrustedFirst.result.cacheHit, false);
  const trusted = await job(repo, hook);
  assert.equal(trusted.result.cacheHit, false, "an untrusted install must not serve trusted jobs");
  const untrustedAgain = await job(repo, hook, { scope: "untrusted" });
  assert.equal(untrustedAgain.result.cacheHit, true);
  const scopes = (await engine.findImages({ "kozmic.cache.repo": repo.id })).map(
    (i) => i.labels["kozmic.cache.scope"],
  );
  assert.deepEqual(scopes.sort(), ["trusted", "untrusted"]);
});

test("one fork's install is never another fork's cache hit, nor the reason given for its miss", async () => {
  const repo = newRepo();
  const hook = { install: INSTALL, build: "cat /opt/marker", tracked_files: ["deps.txt"] };
  const forkA = await job(repo, hook, { scope: "untrusted", fork: "repo-101" });
  assert.equal(forkA.result.cacheHit, false, forkA.log);
  const forkAgain = await job(repo, hook, { scope: "untrusted", fork: "repo-101" });
  assert.equal(forkAgain.result.cacheHit, true, "a fork reuses its own install");
  const forkB = await job(repo, hook, { scope: "untrusted", fork: "repo-202" });
  assert.equal(forkB.result.cacheHit, false, forkB.log);
  assert.match(forkB.log, /INSTALLING/);
  // Fork A's install is not compared with either: that would tell B what A's files are.
  assert.match(forkB.log, /why: no cached install yet for this hook/);
  const forks = (await engine.findImages({ "kozmic.cache.repo": repo.id })).map(
    (i) => i.labels["kozmic.cache.fork"],
  );
  assert.deepEqual(forks.sort(), ["repo-101", "repo-202"]);
});

test("a missing image that cannot be pulled is an InfrastructureError", async () => {
  await assert.rejects(
    job(newRepo(), { image: `kozmic-test/does-not-exist-${run}` }),
    (error: unknown) => {
      assert.ok(error instanceof InfrastructureError);
      assert.match((error as Error).message, /cannot pull image kozmic-test\/does-not-exist/);
      return true;
    },
  );
});

test("a step that fails for want of a network says so, and which setting to change", async () => {
  const install = "wget -q -O /opt/index http://packages.kozmic.invalid/simple/";
  const { result, log } = await job(newRepo(), { install }, { settings: { place: "runner r1" } });
  assert.equal(result.conclusion, "failure");
  assert.match(log, /wget: bad address 'packages\.kozmic\.invalid'/);
  assert.match(
    log,
    /==> this job had no network \(KOZMIC_NETWORK is none on runner r1\), and the step needed one: set KOZMIC_NETWORK on runner r1 to a Docker network that reaches the internet/,
  );
  const other = await job(newRepo(), { build: "echo 'just a failing test'; exit 1" });
  assert.doesNotMatch(other.log, /had no network/);
});

test("network: host is refused unless the runner allows it", async () => {
  await assert.rejects(job(newRepo(), { network: "host" }), (error: unknown) => {
    assert.ok(error instanceof PermanentError);
    assert.match(
      (error as Error).message,
      /which this runner does not allow \(KOZMIC_ALLOW_HOST_NETWORK=true/,
    );
    return true;
  });
});

test("a hook cannot name a cache image by its kozmic-cache/ tag", async () => {
  const victim = newRepo();
  const { result } = await job(victim, { install: INSTALL, build: "true" });
  const tag = `${cacheRepository(victim.id)}:${result.cacheKey}`;
  await assert.rejects(job(newRepo(), { image: tag, build: "cat /opt/marker" }), (error) => {
    assert.match(String(error), /holds Kozmic's install cache, which only Kozmic writes/);
    return true;
  });
});

test("a hook's image is never resolved as an image ID prefix", async () => {
  const victim = newRepo();
  writeFileSync(join(victim.dir, "secret.txt"), "private source\n");
  const { result } = await job(victim, { install: INSTALL, build: "true" });
  const [cached] = await engine.findImages({ "kozmic.cache.key": result.cacheKey! });
  assert.ok(cached);
  const prefix = cached.id.replace(/^sha256:/, "").slice(0, 6);
  const attacker = newRepo();
  await assert.rejects(
    job(attacker, { image: prefix, build: "cat /opt/marker; cat /kozmic/src/secret.txt" }),
    (error: unknown) => {
      assert.ok(error instanceof InfrastructureError, String(error));
      assert.match((error as Error).message, new RegExp(`cannot pull image ${prefix}`));
      return true;
    },
  );
});

test("an image that merely carries the cache labels is never a hit (cache poisoning)", async () => {
  const victim = newRepo();
  const hook = hookSchema.parse({
    name: "test",
    image: KOZMIC_IMAGE,
    install: INSTALL,
    build: BUILD,
  });
  const base = (await engine.inspectImage(KOZMIC_IMAGE))!;
  // Everything that goes into the key is public for a public repository.
  const key = computeCacheKey({
    baseImageId: base.id,
    installScript: hook.install!,
    trackedFiles: [],
    repositoryId: victim.id,
    scope: "trusted",
  });
  const poison = `kozmic-test/poison-${run}`;
  const labels = {
    "kozmic.cache": "true",
    "kozmic.cache.repo": victim.id,
    "kozmic.cache.hook": "test",
    "kozmic.cache.key": key,
    "kozmic.cache.scope": "trusted",
    "kozmic.cache.created": new Date().toISOString(),
  };
  const probe = execFileSync(
    "docker",
    ["create", "--network", "none", KOZMIC_IMAGE, "sh", "-c", "echo POISONED > /opt/marker"],
    { encoding: "utf8" },
  ).trim();
  try {
    execFileSync("docker", ["start", "-a", probe], { stdio: "ignore" });
    execFileSync(
      "docker",
      [
        "commit",
        ...Object.entries(labels).flatMap(([k, v]) => ["--change", `LABEL ${k}=${v}`]),
        probe,
        poison,
      ],
      { stdio: "ignore" },
    );
    // Under the very tag a commit of that key gets, which a lookup inspects first.
    execFileSync("docker", ["tag", poison, `${cacheRepository(victim.id)}:${key}`]);
  } finally {
    execFileSync("docker", ["rm", "-f", probe], { stdio: "ignore" });
  }
  try {
    const { result, log } = await job(victim, { install: INSTALL, build: BUILD });
    assert.equal(result.conclusion, "success", log);
    assert.equal(result.cacheKey, key, "the forged image carried the real key");
    assert.equal(result.cacheHit, false, log);
    assert.match(
      log,
      /ignoring image sha256:\w+: it carries Kozmic's cache labels, but Kozmic did not commit it/,
    );
    assert.match(log, /INSTALLING/);
    assert.doesNotMatch(log, /POISONED/);
    const again = await job(victim, { install: INSTALL, build: BUILD });
    assert.equal(again.result.cacheHit, true, "its own committed install is a hit");
    assert.doesNotMatch(again.log, /POISONED/);
  } finally {
    removeImages(poison);
  }
});

test("a base image carrying Kozmic's cache labels fails the job before anything runs", async () => {
  const repo = newRepo();
  const labelled = `kozmic-test/labelled-${run}`;
  const probe = execFileSync("docker", ["create", KOZMIC_IMAGE, "true"], {
    encoding: "utf8",
  }).trim();
  try {
    execFileSync("docker", ["commit", "--change", "LABEL kozmic.cache.repo=x", probe, labelled], {
      stdio: "ignore",
    });
  } finally {
    execFileSync("docker", ["rm", "-f", probe], { stdio: "ignore" });
  }
  try {
    await assert.rejects(job(repo, { image: labelled, build: "echo RAN" }), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match((error as Error).message, /carries Kozmic's install-cache labels/);
      return true;
    });
  } finally {
    removeImages(labelled);
  }
});

test("user: root, a named user and uid:gid own /kozmic/src; an unknown user is a clear error", async () => {
  const repo = newRepo();
  const build = "id -u; id -g; touch /kozmic/src/new && echo writable; stat -c %u /kozmic/src";
  const root = await job(repo, { user: "root", build });
  assert.equal(root.result.conclusion, "success", root.log);
  const shows = (uid: string, gid: string, owner: string) =>
    ran(
      ["id -u", uid],
      ["id -g", gid],
      ["touch /kozmic/src/new && echo writable", "writable"],
      ["stat -c %u /kozmic/src", owner],
    );
  assert.match(shownLog(root.log), shows("0", "0", "0"));
  const named = await job(repo, { image: ROOT_IMAGE, user: "root", build: "id -un" });
  assert.match(shownLog(named.log), ran(["id -un", "root"]));
  const numeric = await job(repo, { user: "1234:4321", build });
  assert.equal(numeric.result.conclusion, "success", numeric.log);
  assert.match(shownLog(numeric.log), shows("1234", "4321", "1234"));
  const kozmic = await job(repo, { image: KOZMIC_IMAGE, user: "kozmic", build });
  assert.match(shownLog(kozmic.log), shows("1000", "1000", "1000"));
  await assert.rejects(job(repo, { user: "nobody-here", build }), (error: unknown) => {
    assert.ok(error instanceof PermanentError);
    assert.match((error as Error).message, /user: nobody-here is not a user of the image/);
    return true;
  });
});

test("limits: above the runner's ceilings is an error naming them; forks get the defaults", async () => {
  const repo = newRepo();
  await assert.rejects(job(repo, { memory: "1000g" }), (error: unknown) => {
    assert.ok(error instanceof PermanentError);
    assert.match(
      (error as Error).message,
      /memory: 1000g, above the most this runner allows \(KOZMIC_MAX_MEMORY=4g\)/,
    );
    return true;
  });
  await assert.rejects(
    job(repo, { cpus: 64 }),
    /cpus: 64, above the most this runner allows \(KOZMIC_MAX_CPUS=2\)/,
  );
  const memoryMax =
    "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes";
  const trusted = await job(repo, { memory: "512m", build: memoryMax });
  assert.match(trusted.log, new RegExp(`^${512 * 1024 ** 2}$`, "m"), trusted.log);
  const fork = await job(repo, { memory: "512m", build: memoryMax }, { scope: "untrusted" });
  assert.match(fork.log, new RegExp(`^${256 * 1024 ** 2}$`, "m"), fork.log);
  assert.match(
    fork.log,
    /memory limited to 256m \(the default\): pull requests from forks cannot raise it/,
  );
  await assert.rejects(
    job(repo, { network: "host" }, { scope: "untrusted", settings: { allowHostNetwork: true } }),
    /network: host, which is never given to pull requests from forks/,
  );
});

test("KOZMIC_DOCKER_RUNTIME: the runtime Docker knows runs the job; an unknown one is an infrastructure error with Docker's words", async () => {
  const repo = newRepo();
  const runc = await job(repo, { build: "echo in-runc" }, { settings: { runtime: "runc" } });
  assert.equal(runc.result.conclusion, "success", runc.log);
  await assert.rejects(
    job(repo, { build: "true" }, { settings: { runtime: "kozmic-no-such-runtime" } }),
    (error: unknown) => {
      assert.ok(error instanceof InfrastructureError, String(error));
      assert.match(
        (error as Error).message,
        /Docker cannot create a container .*kozmic-no-such-runtime/,
      );
      return true;
    },
  );
});
