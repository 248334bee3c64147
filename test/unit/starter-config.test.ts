import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { renderStarterConfig } from "../../src/core/starter/render-starter-config.js";
import type { RepositoryRoot } from "../../src/core/starter/detect-ecosystem.js";

function root(names: string[], texts: Record<string, string> = {}): RepositoryRoot {
  return { names, texts };
}

test("each ecosystem's starter parses, with an install cached on its tracked files", () => {
  const cases: [RepositoryRoot, string, string, string[]][] = [
    [root(["requirements.txt", "README.md"]), "python", "python:3.12", ["requirements.txt"]],
    [
      root(["pyproject.toml", "setup.cfg"]),
      "python",
      "python:3.12",
      ["pyproject.toml", "setup.cfg"],
    ],
    [
      root(["package.json", "package-lock.json"]),
      "node",
      "node:22",
      ["package.json", "package-lock.json"],
    ],
    [root(["package.json", "yarn.lock"]), "node", "node:22", ["package.json", "yarn.lock"]],
    [root(["go.mod", "go.sum"]), "go", "golang:1.23", ["go.mod", "go.sum"]],
    [root(["Cargo.toml"]), "rust", "rust:1", ["Cargo.toml"]],
    [
      root(["Gemfile", "Gemfile.lock", "Rakefile"]),
      "ruby",
      "ruby:3.3",
      ["Gemfile", "Gemfile.lock"],
    ],
  ];
  for (const [repo, ecosystem, image, tracked] of cases) {
    const starter = renderStarterConfig(repo);
    assert.equal(starter.ecosystem, ecosystem, repo.names.join(" "));
    const [hook] = parseConfig(starter.text).hooks;
    assert.equal(hook?.image, image);
    assert.deepEqual(hook?.tracked_files, tracked);
    assert.ok(hook?.install, `${ecosystem} has an install script`);
    assert.match(starter.text, /^# yaml-language-server: \$schema=\.\/kozmic\.schema\.json\n/);
    assert.match(starter.text, /`kozmic run`/);
  }
});

test("requirements files are each installed and tracked; pytest runs the build", () => {
  const starter = renderStarterConfig(root(["requirements.txt", "requirements-dev.txt"]));
  const [hook] = parseConfig(starter.text).hooks;
  assert.equal(
    hook?.install,
    "pip install --user -r requirements-dev.txt\npip install --user -r requirements.txt\n",
  );
  assert.equal(hook?.build, "python -m pytest\n");
  assert.match(starter.text, /found requirements-dev\.txt, requirements\.txt/);
});

test("node installs outside the /kozmic volume and runs the scripts package.json has", () => {
  const starter = renderStarterConfig(
    root(["package.json", "package-lock.json"], {
      "package.json": JSON.stringify({ scripts: { build: "tsc", test: "node --test" } }),
    }),
  );
  const [hook] = parseConfig(starter.text).hooks;
  assert.match(hook!.install!, /cd "\$HOME\/deps" && npm ci/);
  assert.equal(
    hook?.build,
    'ln -sfn "$HOME/deps/node_modules" node_modules\nnpm run build\nnpm test\n',
  );
  const untested = renderStarterConfig(root(["package.json"], { "package.json": "{not json" }));
  assert.match(parseConfig(untested.text).hooks[0]!.build, /package.json has no test script/);
  assert.match(parseConfig(untested.text).hooks[0]!.install!, /npm install/);
});

test("a Makefile runs its test target; other ecosystems found are named, the first chosen", () => {
  const make = renderStarterConfig(
    root(["Makefile"], { Makefile: "all:\n\tcc x.c\ntest: all\n\t./a.out\n" }),
  );
  assert.equal(make.ecosystem, "make");
  assert.equal(parseConfig(make.text).hooks[0]?.build, "make test\n");
  const plain = renderStarterConfig(root(["Makefile"], { Makefile: "all:\n\tcc x.c\n" }));
  assert.equal(parseConfig(plain.text).hooks[0]?.build, "make\n");
  const mixed = renderStarterConfig(root(["Makefile", "go.mod", "package.json"]));
  assert.equal(mixed.ecosystem, "node");
  assert.match(mixed.text, /# Also found: go\.mod \(Go\); Makefile \(Makefile\)/);
});

test("with nothing recognised, a generic hook that parses, install and tracked files commented", () => {
  const starter = renderStarterConfig(root(["README.md", "main.c"]));
  assert.equal(starter.ecosystem, "generic");
  const [hook] = parseConfig(starter.text).hooks;
  assert.equal(hook?.image, "debian:bookworm");
  assert.equal(hook?.install, undefined);
  assert.match(starter.text, /^ {4}# install: \|$/m);
  assert.match(starter.text, /no Python, Node\.js, Go, Rust, Ruby or Makefile project found/);
});
