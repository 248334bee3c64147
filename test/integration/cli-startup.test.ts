import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatConfigIssuesForTerminal } from "../../src/core/config/format-config-issues.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ConfigError } from "../../src/core/errors.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { runKozmic } from "../support/kozmic-cli.js";

const exec = promisify(execFile);
const CLI_DIR = fileURLToPath(new URL("../../dist/cli/", import.meta.url));
const RECORDER = fileURLToPath(new URL("../support/loaded-modules.mjs", import.meta.url));
const PACKAGE = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };

const dir = mkdtempSync(join(tmpdir(), "kozmic-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the compiled `kozmic <args>` and returns its output and every module it loaded. */
async function kozmicLoading(
  args: string[],
  env: Record<string, string> = {},
  node = process.execPath,
) {
  const record = join(dir, `${randomUUID()}.txt`);
  const result = await runKozmic(args, {
    node,
    nodeOptions: ["--import", RECORDER],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KOZMIC_DATA_DIR: join(dir, "data"),
      RECORD_LOADED_MODULES: record,
      ...env,
    },
  });
  const modules = readFileSync(record, "utf8").split("\n").filter(Boolean);
  return { ...result, modules };
}

/**
 * The packages loaded from node_modules itself, not from the bundle, by name: the bundle
 * leaves there only native code (better-sqlite3, loaded by path).
 */
function outsideTheBundle(modules: string[]): string[] {
  const names = modules.flatMap((m) => /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []);
  return [...new Set(names)].sort();
}

function loadedFrom(modules: string[], part: string): string[] {
  return modules.filter((m) => m.includes(part));
}

/**
 * Packages loaded from node_modules, and those bundled into the dist/cli/ files it loaded
 * (esbuild heads each bundled file with a `// node_modules/<path>` comment). ES modules are
 * recorded by URL, CommonJS files (the lazily required Docker transports) by path.
 */
function packagesLoaded(modules: string[]): string[] {
  const bundled = modules
    .filter((m) => m.includes("/dist/cli/"))
    .map((m) => readFileSync(m.startsWith("file:") ? new URL(m) : m, "utf8"))
    .flatMap((text) => [...text.matchAll(/^\/\/ (node_modules\/\S+)$/gm)])
    .map((match) => `bundled: ${match[1]}`);
  return [...loadedFrom(modules, "/node_modules/"), ...bundled];
}

describe("the CLI loads what a command uses", () => {
  it("kozmic --version prints the package's version, from dist/", async () => {
    const result = await kozmicLoading(["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${PACKAGE.version}\n`);
    assert.ok(
      result.modules.some((m) => m.endsWith("/dist/cli/main.js")),
      "the bundled CLI ran",
    );
    assert.deepEqual(packagesLoaded(result.modules), []);
  });

  for (const args of [
    ["--help"],
    ["init", "--help"],
    ["run", "--help"],
    ["cache", "--help"],
    ["runner", "--help"],
    ["serve", "--help"],
    ["setup", "--help"],
    ["doctor", "--help"],
  ]) {
    it(`kozmic ${args.join(" ")} loads no package`, async () => {
      const result = await kozmicLoading(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /usage: kozmic/);
      assert.deepEqual(packagesLoaded(result.modules), []);
    });
  }

  it("kozmic cache ls talks to the local Docker socket through the bundled dockerode, loading nothing from node_modules", async () => {
    const result = await kozmicLoading(["cache", "ls"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^KEY\s+REPOSITORY/);
    const packages = packagesLoaded(result.modules);
    assert.notDeepEqual(loadedFrom(packages, "node_modules/dockerode/"), []);
    // Docker's SSH and BuildKit transports are loaded only when asked for.
    for (const unused of ["ssh2", "@grpc/grpc-js", "protobufjs"])
      assert.deepEqual(loadedFrom(packages, `node_modules/${unused}/`), [], unused);
    assert.deepEqual(outsideTheBundle(result.modules), []);
  });

  it("an ssh:// DOCKER_HOST still works through the bundled ssh2: it connects", async () => {
    // Port 1 on this machine: nothing listens, so ssh2's connection is refused.
    const result = await kozmicLoading(["cache", "ls"], {
      DOCKER_HOST: "ssh://kozmic@127.0.0.1:1",
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /ECONNREFUSED 127\.0\.0\.1:1/);
    assert.doesNotMatch(result.stderr, /Cannot find module|ReferenceError/);
    assert.notDeepEqual(loadedFrom(packagesLoaded(result.modules), "node_modules/ssh2/"), []);
  });

  describe("kozmic run", () => {
    const image = `kozmic-test/startup-${randomUUID().slice(0, 8)}`;
    const repo = join(dir, "repo");
    before(() => {
      ensureBusyboxImage(image);
      mkdirSync(join(repo, ".github"), { recursive: true });
      writeFileSync(
        join(repo, ".github/kozmic.yml"),
        `hooks:\n  - name: hello\n    image: ${image}\n    build: echo hello from the job\n`,
      );
    });
    after(() => removeImages(image));

    it("runs a job on the local Docker socket, loading no package from node_modules but native code", async () => {
      const result = await kozmicLoading(["run", repo]);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /hello from the job/);
      assert.match(result.stdout, /^hello: success in \d+\.\ds/m);
      assert.deepEqual(outsideTheBundle(result.modules), ["better-sqlite3"]);
    });

    it("runs a job with DOCKER_HOST=unix:///var/run/docker.sock", async () => {
      const result = await kozmicLoading(["run", repo], {
        DOCKER_HOST: "unix:///var/run/docker.sock",
      });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /^hello: success in \d+\.\ds/m);
    });
  });

  it("zod is bundled in English only (imported as `* as z`, its other languages are left out), and a bad configuration reads as it does from the source", async () => {
    const headers = readdirSync(CLI_DIR)
      .filter((name) => name.endsWith(".js"))
      .flatMap((name) => [
        ...readFileSync(join(CLI_DIR, name), "utf8").matchAll(/^\/\/ (node_modules\/zod\/\S+)$/gm),
      ])
      .map((match) => match[1]!);
    assert.notDeepEqual(headers, [], "zod is in the bundle");
    // Once in the chunks and once in kozmic run's own file (run-hooks.js).
    assert.deepEqual(
      [...new Set(headers.filter((file) => file.includes("/locales/")))],
      ["node_modules/zod/v4/locales/en.js"],
    );

    const repo = join(dir, "bad-config");
    mkdirSync(join(repo, ".github"), { recursive: true });
    const text = [
      "hooks:",
      "  - name: 5",
      "    image: [1]",
      "    build: true",
      "    timeout: soon",
      "    memory: -3",
      "    env: { 1BAD: x, GOOD: [1] }",
      "    colour: blue",
      "  - image: busybox",
      "",
    ].join("\n");
    const file = join(repo, ".github/kozmic.yml");
    writeFileSync(file, text);
    let expected = "";
    try {
      parseConfig(text);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      expected = formatConfigIssuesForTerminal(error.issues, text, file);
    }
    assert.match(expected, /expected a duration/);
    const result = await kozmicLoading(["run", repo]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `${expected}\n`);
  });

  describe("Node's compile cache (Node.js 22.1 and later), in the user's own cache directory", () => {
    let node24 = "";
    before(async () => {
      // The machine's Node may be 20, which has none: the tests use Node 24 (as CI does).
      node24 = (
        await exec("bash", [fileURLToPath(new URL("../../scripts/node24.sh", import.meta.url))])
      ).stdout.trim();
    });
    const cacheFiles = (root: string) =>
      readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());

    it("is written under $HOME/.cache/kozmic, private to the user", async () => {
      const home = join(dir, "home-cache");
      mkdirSync(home);
      for (let i = 0; i < 2; i++) {
        const result = await kozmicLoading(["run", "--help"], { HOME: home }, node24);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stderr, "");
      }
      const cache = join(home, ".cache/kozmic/node-compile-cache");
      assert.notDeepEqual(cacheFiles(cache), []);
      for (const path of [join(home, ".cache/kozmic"), cache])
        assert.equal(statSync(path).mode & 0o777, 0o700, path);
    });

    it("is left off, and the command runs, when the cache directory cannot be made or is not private", async () => {
      const fileHome = join(dir, "home-file");
      mkdirSync(fileHome);
      writeFileSync(join(fileHome, ".cache"), "a file, not a directory\n");
      const shared = join(dir, "home-shared");
      mkdirSync(join(shared, ".cache/kozmic"), { recursive: true });
      chmodSync(join(shared, ".cache/kozmic"), 0o777);
      for (const env of [
        { HOME: fileHome },
        { HOME: shared },
        { HOME: join(dir, "no-such-home") },
        { HOME: "/proc/self/no-such-home" },
      ]) {
        const result = await kozmicLoading(["--version"], env, node24);
        assert.equal(result.code, 0, `${env.HOME}: ${result.stderr}`);
        assert.equal(result.stdout, `${PACKAGE.version}\n`);
        assert.equal(result.stderr, "");
      }
      assert.deepEqual(cacheFiles(join(shared, ".cache/kozmic")), []);
    });
  });
});
