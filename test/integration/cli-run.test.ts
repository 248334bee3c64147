import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { localRepositoryId } from "../../src/cli/run-hooks.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ran, shownLog } from "../support/shown-log.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { runKozmic } from "../support/kozmic-cli.js";

// `kozmic run` as a user sees it, through the compiled CLI: output, exit codes and what is
// left behind.
const IMAGE = `kozmic-test/cli-${randomUUID().slice(0, 8)}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-cli-data-"));
const dirs: string[] = [];

before(() => ensureBusyboxImage(IMAGE, { withKozmicUser: true }));
after(async () => {
  const engine = new DockerEngine();
  for (const dir of dirs) {
    for (const image of await engine.findImages({
      "kozmic.cache.repo": localRepositoryId(dir),
    })) {
      await engine.removeImage(image.id);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  removeImages(IMAGE);
  rmSync(dataDir, { recursive: true, force: true });
});

function example(): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-hello-"));
  dirs.push(dir);
  cpSync("examples/hello", dir, { recursive: true });
  const config = join(dir, ".github/kozmic.yml");
  writeFileSync(
    config,
    readFileSync(config, "utf8")
      .replace("kozmic-example/busybox", IMAGE)
      .replace("sleep 2", "true"),
  );
  return dir;
}

function kozmic(args: string[], env: Record<string, string> = {}) {
  return runKozmic(args, {
    env: { ...process.env, KOZMIC_DATA_DIR: dataDir, ...env },
  });
}

test("kozmic run: a miss, then a hit, then a miss after deps.txt changes", async () => {
  const dir = example();
  const first = await kozmic(["run", dir]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(
    first.stdout,
    /cache miss [0-9a-f]{64}: running install\n==> {3}why: no cached install yet for this hook\n/,
  );
  // Sections as headers with their durations, and a summary; no job ids.
  assert.match(first.stdout, /\n▶ Install: cache miss \(no cached install yet for this hook\)\n/);
  assert.match(first.stdout, /^✓ Install done in \d+\.\ds$/m);
  assert.match(first.stdout, /^✓ Build done in \d+\.\ds$/m);
  assert.doesNotMatch(first.stdout, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  // Its output is a pipe here: plain text, the echo's dim style left out.
  assert.ok(!first.stdout.includes("\x1b"), "no escape codes on a pipe");
  assert.match(
    shownLog(first.stdout),
    ran(
      ['echo "installed: $(cat /opt/hello/installed.txt)"', "installed: greeting-lib 1.0"],
      ["sh ./greet.sh", "hello from kozmic in /kozmic/src"],
    ),
  );
  assert.match(first.stdout, /^hello: success in \d+\.\ds \(install: cache miss, \d+\.\ds\)$/m);
  const second = await kozmic(["run", dir, "--hook", "hello"]);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /install skipped: cache hit/);
  assert.match(second.stdout, /^– Install skipped$/m);
  assert.match(second.stdout, /^hello: success in \d+\.\ds \(install: cache hit\)$/m);
  writeFileSync(join(dir, "deps.txt"), "greeting-lib 2.0\n");
  const third = await kozmic(["run", dir]);
  assert.match(
    third.stdout,
    /cache miss [0-9a-f]{64}: running install\n==> {3}why: tracked file changed: deps.txt\n/,
  );
  assert.match(third.stdout, /installed: greeting-lib 2.0/);
});

test("two kozmic run processes with one missing key install once (lock file across processes)", async () => {
  const dir = example();
  const config = join(dir, ".github/kozmic.yml");
  writeFileSync(
    config,
    readFileSync(config, "utf8").replace('echo "installing', 'sleep 1; echo "installing'),
  );
  const [a, b] = await Promise.all([kozmic(["run", dir]), kozmic(["run", dir])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal((a.stdout + b.stdout).match(/installing greeting-lib/g)?.length, 1);
  assert.match(a.stdout + b.stdout, /install skipped: cache hit/);
});

test("kozmic run --secret gives a hook the caller's variable, masked on the terminal; a missing one stops it first", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-secret-"));
  dirs.push(dir);
  const value = "ghp_cliSecretValue0123456789";
  mkdirSync(join(dir, ".github"));
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    [
      "hooks:",
      "  - name: publish",
      `    image: ${IMAGE}`,
      "    secrets: [DEPLOY_TOKEN]",
      "    build: |",
      '      echo "token: $DEPLOY_TOKEN"',
      '      echo "length ${#DEPLOY_TOKEN}"',
      "",
    ].join("\n"),
  );
  const run = await kozmic(["run", dir, "--secret", "DEPLOY_TOKEN"], { DEPLOY_TOKEN: value });
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(
    shownLog(run.stdout),
    ran(
      ['echo "token: $DEPLOY_TOKEN"', "token: ***"],
      ['echo "length ${#DEPLOY_TOKEN}"', `length ${value.length}`],
    ),
  );
  assert.equal((run.stdout + run.stderr).includes(value), false);

  const unset = await kozmic(["run", dir, "--secret", "DEPLOY_TOKEN"]);
  assert.equal(unset.code, 2);
  assert.match(
    unset.stderr,
    /--secret DEPLOY_TOKEN: the environment variable DEPLOY_TOKEN is not set/,
  );
  const notGiven = await kozmic(["run", dir], { DEPLOY_TOKEN: value });
  assert.equal(notGiven.code, 2);
  assert.match(notGiven.stderr, /hook "publish" needs DEPLOY_TOKEN: give each with --secret NAME/);
  assert.doesNotMatch(notGiven.stdout, /▶ Preparing/, "nothing ran");
  const short = await kozmic(["run", dir, "--secret", "DEPLOY_TOKEN"], { DEPLOY_TOKEN: "abc" });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 6 characters/);
});

test("kozmic run exits 1 when a hook fails", async () => {
  const dir = example();
  writeFileSync(join(dir, "greet.sh"), "echo broken; exit 4\n");
  const result = await kozmic(["run", dir]);
  assert.equal(result.code, 1);
  assert.match(shownLog(result.stdout), ran(["sh ./greet.sh", "broken"]));
  assert.match(result.stdout, /\n==> build failed: "sh \.\/greet\.sh" exited with 4\n/);
  assert.match(result.stdout, /^hello: failure in \d+\.\ds/m);
});

test("kozmic run copies a hook's artifacts into ./kozmic-artifacts/<hook>/, or where --artifacts says", async () => {
  const dir = example();
  const config = join(dir, ".github/kozmic.yml");
  writeFileSync(
    config,
    readFileSync(config, "utf8").replace(
      "      sh ./greet.sh\n",
      "      sh ./greet.sh\n      mkdir -p dist && echo wheel > dist/x.whl\n" +
        "      head -c 3000 /dev/zero > dist/big.whl\n      ln -s /etc/passwd dist/passwd.whl\n" +
        "    artifacts: [dist/*.whl]\n",
    ),
  );
  const where = mkdtempSync(join(tmpdir(), "kozmic-run-cwd-"));
  dirs.push(where);
  const result = await runKozmic(["run", dir], {
    cwd: where,
    env: { ...process.env, KOZMIC_DATA_DIR: dataDir, KOZMIC_ARTIFACT_MAX_SIZE: "1000" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(readFileSync(join(where, "kozmic-artifacts/hello/dist/x.whl"), "utf8"), "wheel\n");
  assert.deepEqual(readdirSync(join(where, "kozmic-artifacts/hello/dist")), ["x.whl"]);
  assert.match(result.stdout, /artifacts: warning: dist\/big\.whl .* skipped\n/);
  assert.match(result.stdout, new RegExp(`artifacts in ${join(where, "kozmic-artifacts/hello")}`));

  const elsewhere = join(where, "out");
  const again = await kozmic(["run", dir, "--artifacts", elsewhere]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(elsewhere, "hello/dist/x.whl"), "utf8"), "wheel\n");
});

test("kozmic run exits 2 with line and column for an invalid config", async () => {
  const dir = example();
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    "hooks:\n  - name: x\n    image: busybox\n    build: true\n    timeout: soon\n",
  );
  const result = await kozmic(["run", dir]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /kozmic\.yml:5:\d+: .*timeout/);
});

test("kozmic run: a kozmic-cache/ image is a configuration error (exit 2); host network names the local setting", async () => {
  const dir = example();
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    'hooks:\n  - name: x\n    build: "true"\n    image: kozmic-cache/local-0123:abc\n',
  );
  const cache = await kozmic(["run", dir]);
  assert.equal(cache.code, 2);
  assert.match(
    cache.stderr,
    /kozmic\.yml:4:12: hook "x": image: `kozmic-cache\/` holds Kozmic's install cache/,
  );
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    `hooks:\n  - name: x\n    build: "true"\n    image: ${IMAGE}\n    network: host\n`,
  );
  const host = await kozmic(["run", dir]);
  assert.equal(host.code, 2);
  assert.match(
    host.stderr,
    /^kozmic run: hook "x" asks for network: host, which this machine does not allow \(KOZMIC_ALLOW_HOST_NETWORK=true where the jobs run permits it\)$/m,
  );
  assert.doesNotMatch(host.stderr, /runner/);
});

test("kozmic run exits 2 for an unknown hook, a missing config and a bad KOZMIC_ variable", async () => {
  const dir = example();
  const unknown = await kozmic(["run", dir, "--hook", "nope"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no hook named "nope"; hooks: "hello"/);
  const empty = mkdtempSync(join(tmpdir(), "kozmic-empty-"));
  dirs.push(empty);
  const missing = await kozmic(["run", empty]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*\.github\/kozmic\.yml/);
  assert.match(missing.stderr, /`kozmic init \S+` writes a starter one from the project's files/);
  const bad = await kozmic(["run", dir], { KOZMIC_DEFAULT_MEMORY: "lots" });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^kozmic run: KOZMIC_DEFAULT_MEMORY must be a size .*, got "lots"$/m);
});

test("kozmic run exits 3 with a clear message when Docker cannot be reached", async () => {
  const dir = example();
  const result = await kozmic(["run", dir], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
  assert.equal(result.code, 3);
  assert.match(
    result.stderr,
    /^kozmic run: cannot inspect image .*connect ENOENT \/nonexistent\/docker\.sock$/m,
  );
});

test("kozmic cache ls lists the cached image; cache prune rejects a bad size", async () => {
  const dir = example();
  assert.equal((await kozmic(["run", dir])).code, 0);
  const ls = await kozmic(["cache", "ls"]);
  assert.match(ls.stdout, /^KEY\s+REPOSITORY\s+HOOK\s+SCOPE\s+SIZE\s+CREATED\s+LAST USED$/m);
  assert.match(ls.stdout, new RegExp(`${localRepositoryId(dir)}\\s+hello\\s+trusted`));
  const bad = await kozmic(["cache", "prune", "--max-bytes", "huge"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-bytes expects a size/);
});

test("kozmic run on its default data directory (./.kozmic, relative to where it runs): a miss, a hit, nothing left of its steps", async () => {
  const dir = example();
  const env = defaultDataDirEnv();
  for (const expected of [/cache miss/, /install skipped: cache hit/]) {
    const { code, stdout, stderr } = await runKozmic(["run"], { cwd: dir, env });
    assert.equal(code, 0, stderr);
    assert.match(stdout, expected);
    assert.match(stdout, /^hello: success in \d+\.\ds/m);
  }
  const steps = join(dir, ".kozmic", "steps");
  const left = existsSync(steps) ? readdirSync(steps) : [];
  assert.deepEqual(left, [], "the run's step directories are gone");
});

/** The environment without KOZMIC_DATA_DIR: the data directory is ./.kozmic where kozmic runs. */
function defaultDataDirEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== "KOZMIC_DATA_DIR"),
  );
}

test("kozmic run runs the repository's own configuration, whatever is planted under ./.kozmic/parsed/ where it runs", async () => {
  const dir = example();
  const text = readFileSync(join(dir, ".github/kozmic.yml"), "utf8");
  // What another local user (or the repository itself) could leave there: a "validated"
  // configuration with another script, under the names an earlier build read (a hash of its
  // build id, found in dist/cli/, and of the text) and under any other name.
  const planted = parseConfig(
    `hooks:\n  - name: hello\n    image: ${IMAGE}\n    build: echo PLANTED SCRIPT RAN\n`,
  );
  const parsedDir = join(dir, ".kozmic", "parsed");
  mkdirSync(parsedDir, { recursive: true });
  const cliDir = fileURLToPath(new URL("../../dist/cli/", import.meta.url));
  const buildIds = new Set(
    readdirSync(cliDir).flatMap((name) =>
      [...readFileSync(join(cliDir, name), "utf8").matchAll(/"([0-9a-f]{32})"/g)].map((m) => m[1]!),
    ),
  );
  for (const name of [...buildIds].map((id) =>
    createHash("sha256").update(`${id}\0config\0${text}`).digest("hex"),
  ))
    writeFileSync(join(parsedDir, `${name}.json`), JSON.stringify({ validated: planted }));
  writeFileSync(join(parsedDir, "anything.json"), JSON.stringify({ validated: planted }));

  const result = await runKozmic(["run"], { cwd: dir, env: defaultDataDirEnv() });
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /hello from kozmic in \/kozmic\/src/);
  assert.doesNotMatch(result.stdout + result.stderr, /PLANTED SCRIPT RAN/);
});

test("kozmic run where it cannot write its data directory (a read-only working directory) says so in one line, exit 2, nothing run", async () => {
  const dir = example();
  const cwd = mkdtempSync(join(tmpdir(), "kozmic-read-only-"));
  // Root writes through file modes: a read-only mount, as on a read-only volume.
  const root = process.getuid?.() === 0;
  if (root) execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "kozmic-test-ro", cwd]);
  else chmodSync(cwd, 0o555);
  try {
    const result = await runKozmic(["run", dir], { cwd, env: defaultDataDirEnv() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^kozmic run: cannot write the data directory ${join(cwd, ".kozmic")} \\((EROFS|EACCES)[^\\n]*\\): ` +
          "run it where you can write, or set KOZMIC_DATA_DIR to a directory you can write\\n$",
      ),
    );
    assert.doesNotMatch(result.stdout, /▶ Preparing/, "nothing ran");
  } finally {
    if (root) execFileSync("umount", [cwd]);
    rmSync(cwd, { recursive: true, force: true });
  }
});
