import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

const exec = promisify(execFile);
const RECORDER = fileURLToPath(new URL("../support/loaded-modules.mjs", import.meta.url));
const PACKAGE = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };
/** What only an ssh:// Docker host or a BuildKit session uses (dockerode's transports). */
const NEVER_ON_A_LOCAL_SOCKET = [
  "node_modules/ssh2/",
  "node_modules/@grpc/",
  "node_modules/protobufjs/",
];

const dir = mkdtempSync(join(tmpdir(), "kozmic-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the compiled `kozmic <args>` and returns its output and every module it loaded. */
async function kozmicLoading(args: string[], env: Record<string, string> = {}) {
  const record = join(dir, `${randomUUID()}.txt`);
  const argv = kozmicArgv(args, ["--import", RECORDER]);
  let result;
  try {
    const { stdout, stderr } = await exec(process.execPath, argv, {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KOZMIC_DATA_DIR: join(dir, "data"),
        KOZMIC_LOADED_MODULES: record,
        ...env,
      },
    });
    result = { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    result = { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
  const modules = readFileSync(record, "utf8").split("\n").filter(Boolean);
  return { ...result, modules };
}

function loadedFrom(modules: string[], part: string): string[] {
  return modules.filter((m) => m.includes(part));
}

/**
 * Packages loaded from node_modules, and those bundled into the dist/cli/ files it loaded
 * (esbuild heads each bundled file with a `// node_modules/<path>` comment).
 */
function packagesLoaded(modules: string[]): string[] {
  const bundled = modules
    .filter((m) => m.includes("/dist/cli/"))
    .flatMap((m) => [...readFileSync(new URL(m), "utf8").matchAll(/^\/\/ (node_modules\/\S+)$/gm)])
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

  it("kozmic cache ls talks to the local Docker socket through dockerode, without ssh2, gRPC or protobufjs", async () => {
    const result = await kozmicLoading(["cache", "ls"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^KEY\s+REPOSITORY/);
    assert.notDeepEqual(loadedFrom(result.modules, "/node_modules/dockerode/"), []);
    for (const part of NEVER_ON_A_LOCAL_SOCKET)
      assert.deepEqual(loadedFrom(packagesLoaded(result.modules), part), [], `${part} was loaded`);
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

    it("runs a job on the local Docker socket without ssh2, gRPC or protobufjs", async () => {
      const result = await kozmicLoading(["run", repo]);
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /hello from the job/);
      assert.match(result.stdout, /^hello: success$/m);
      assert.notDeepEqual(loadedFrom(result.modules, "/node_modules/dockerode/"), []);
      for (const part of NEVER_ON_A_LOCAL_SOCKET)
        assert.deepEqual(
          loadedFrom(packagesLoaded(result.modules), part),
          [],
          `${part} was loaded`,
        );
    });
  });
});
