import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { localRepositoryId } from "../../src/cli/run-hooks.js";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { runKozmic } from "../support/kozmic-cli.js";

const work = mkdtempSync(join(tmpdir(), "kozmic-init-"));
const dataDir = join(work, "data");
const images: string[] = [];
const repos: string[] = [];

after(async () => {
  const engine = new DockerEngine();
  for (const repo of repos)
    for (const image of await engine.findImages({ "kozmic.cache.repo": localRepositoryId(repo) }))
      await engine.removeImage(image.id);
  removeImages(...images);
  rmSync(work, { recursive: true, force: true });
});

function kozmic(args: string[]) {
  return runKozmic(args, { env: { ...process.env, KOZMIC_DATA_DIR: dataDir } });
}

/** A stand-in tool: each case is `args) commands;;`, anything else fails loudly. */
function tool(name: string, cases: string): string {
  return `#!/bin/sh\nset -e\ncase "$*" in\n${cases}\n*) echo "${name} stand-in: unexpected arguments: $*" >&2; exit 2;;\nesac\n`;
}

/** Fails the build when the install's result did not reach it (not cached, or not installed). */
const needs = (file: string) =>
  `test -f ${file} || { echo "not installed: ${file} is missing" >&2; exit 1; }`;

/**
 * One fixture per ecosystem: the files `kozmic init` looks at, and an image of that
 * ecosystem's shape whose tools are stand-ins that install into the same places as the
 * real ones (outside /kozmic) and whose test commands fail when the install is absent.
 */
const ECOSYSTEMS: {
  name: string;
  files: Record<string, string>;
  tools: Record<string, string>;
  says: RegExp;
  output: RegExp;
}[] = [
  {
    name: "python",
    files: { "requirements.txt": "requests==2.32.3\n", "test_app.py": "def test(): pass\n" },
    tools: {
      pip: tool(
        "pip",
        `"install -r requirements.txt") mkdir -p /usr/local/lib/py; cp requirements.txt /usr/local/lib/py/installed;;
"install pytest") touch /usr/local/lib/py/pytest;;`,
      ),
      python: tool(
        "python",
        `"-m pytest") ${needs("/usr/local/lib/py/pytest")}; echo "1 passed with $(cat /usr/local/lib/py/installed)";;`,
      ),
    },
    says: /hook "test": Python \(found requirements\.txt\)/,
    output: /1 passed with requests==2\.32\.3/,
  },
  {
    name: "node",
    files: {
      "package.json": JSON.stringify({ name: "app", scripts: { test: "node --test" } }),
      "package-lock.json": "{}\n",
    },
    tools: {
      npm: tool(
        "npm",
        `"ci --ignore-scripts --no-audit --no-fund") test -f package-lock.json; test "$PWD" = /tmp/deps; mkdir -p /usr/local/npm-cache; echo left-pad > /usr/local/npm-cache/left-pad;;
"ci --prefer-offline --no-audit --no-fund") ${needs("/usr/local/npm-cache/left-pad")}; mkdir -p node_modules; cp /usr/local/npm-cache/left-pad node_modules/installed;;
test) ${needs("node_modules/installed")}; echo "tests pass with $(cat node_modules/installed)";;`,
      ),
    },
    says: /hook "test": Node\.js \(found package\.json, package-lock\.json\)/,
    output: /tests pass with left-pad/,
  },
  {
    name: "go",
    files: { "go.mod": "module example.com/app\n\ngo 1.23\n", "go.sum": "" },
    tools: {
      go: tool(
        "go",
        `"mod download") mkdir -p /go/pkg/mod; cp go.mod /go/pkg/mod/downloaded;;
"build ./...") ${needs("/go/pkg/mod/downloaded")};;
"vet ./...") ${needs("/go/pkg/mod/downloaded")};;
"test ./...") ${needs("/go/pkg/mod/downloaded")}; echo "ok   example.com/app";;`,
      ),
    },
    says: /hook "test": Go \(found go\.mod\)/,
    output: /ok {3}example\.com\/app/,
  },
  {
    name: "rust",
    files: { "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n', "Cargo.lock": "" },
    tools: {
      cargo: tool(
        "cargo",
        `"fetch --locked") mkdir -p /usr/local/cargo/registry; cp Cargo.toml /usr/local/cargo/registry/fetched;;
"test --locked --no-run") ${needs("/usr/local/cargo/registry/fetched")}; mkdir -p "$CARGO_TARGET_DIR"; touch "$CARGO_TARGET_DIR/deps";;
"test --locked") ${needs("/var/tmp/cargo-target/deps")}; echo "test result: ok. 1 passed";;`,
      ),
    },
    says: /hook "test": Rust \(found Cargo\.toml\)/,
    output: /test result: ok\. 1 passed/,
  },
  {
    name: "ruby",
    files: { Gemfile: 'gem "rake"\n', "Gemfile.lock": "", Rakefile: "task default: []\n" },
    tools: {
      bundle: tool(
        "bundle",
        `"install --jobs 4") mkdir -p /usr/local/bundle; cp Gemfile /usr/local/bundle/installed;;
"exec rake") ${needs("/usr/local/bundle/installed")}; echo "rake: 1 example, 0 failures";;`,
      ),
    },
    says: /hook "test": Ruby \(found Gemfile\)/,
    output: /rake: 1 example, 0 failures/,
  },
  {
    name: "make",
    files: { Makefile: "all:\n\tcc -o app app.c\n\ntest: all\n\t./app\n" },
    tools: { make: tool("make", `test) test -f Makefile; echo "make: tests passed";;`) },
    says: /hook "test": Makefile \(found Makefile\)/,
    output: /make: tests passed/,
  },
  {
    name: "generic",
    files: { "README.md": "# app\n" },
    tools: {},
    says: /hook "test": generic/,
    output: /Kozmic ran this hook: put your build and test commands here/,
  },
];

describe("kozmic init writes a starter config that validates and runs", () => {
  for (const ecosystem of ECOSYSTEMS) {
    it(`${ecosystem.name}: written, valid, and kozmic run passes on an image of its shape`, async () => {
      const repo = join(work, ecosystem.name);
      repos.push(repo);
      mkdirSync(repo);
      for (const [name, text] of Object.entries(ecosystem.files))
        writeFileSync(join(repo, name), text);
      const init = await kozmic(["init", repo]);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, ecosystem.says);
      assert.match(init.stdout, /kozmic.schema.json: completion and checking in editors/);
      assert.match(init.stdout, /next:\n {2}kozmic run /);

      const file = join(repo, ".github/kozmic.yml");
      const text = readFileSync(file, "utf8");
      const [hook] = parseConfig(text).hooks;
      assert.ok(hook);
      const schema = JSON.parse(readFileSync(join(repo, ".github/kozmic.schema.json"), "utf8"));
      assert.equal(schema.$id, "kozmic.schema.json");

      const image = `kozmic-test/init-${ecosystem.name}-${randomUUID().slice(0, 8)}`;
      images.push(image);
      ensureBusyboxImage(image, { tools: ecosystem.tools });
      writeFileSync(file, text.replace(`image: ${hook.image}`, `image: ${image}`));
      const run = await kozmic(["run", repo]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, ecosystem.output);
      assert.match(run.stdout, /^test: success in \d+\.\ds/m);
      if (hook.install) assert.match(run.stdout, /cache miss [0-9a-f]{64}: running install/);
      // The build found what the install wrote, so it came from the committed image; once
      // (for the install that has to work around the /kozmic volume), the next run hits.
      if (ecosystem.name === "node") {
        const again = await kozmic(["run", repo]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.match(again.stdout, /install skipped: cache hit/);
        assert.match(again.stdout, ecosystem.output);
      }
    });
  }

  it("never overwrites an existing configuration, and keeps an existing schema file", async () => {
    const repo = join(work, "configured");
    mkdirSync(join(repo, ".github"), { recursive: true });
    writeFileSync(join(repo, "go.mod"), "module example.com/x\n");
    writeFileSync(join(repo, ".github/kozmic.yml"), "# mine\n");
    const refused = await kozmic(["init", repo]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /kozmic\.yml already exists; nothing was written/);
    assert.equal(readFileSync(join(repo, ".github/kozmic.yml"), "utf8"), "# mine\n");

    rmSync(join(repo, ".github/kozmic.yml"));
    writeFileSync(join(repo, ".github/kozmic.schema.json"), "{}\n");
    const written = await kozmic(["init", repo]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /kept .*kozmic\.schema\.json as it is/);
    assert.equal(readFileSync(join(repo, ".github/kozmic.schema.json"), "utf8"), "{}\n");
  });

  it("says what is wrong with a DIR that is missing or a file", async () => {
    const missing = await kozmic(["init", join(work, "nowhere")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nowhere does not exist; give the repository's directory/);
    const file = join(work, "a-file");
    writeFileSync(file, "");
    const notDir = await kozmic(["init", file]);
    assert.equal(notDir.code, 2);
    assert.match(notDir.stderr, /a-file is a file; give the repository's directory/);
  });
});
