import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { renderStarterConfig } from "../../src/core/starter/render-starter-config.js";
import { wantsText, type RepositoryTree } from "../../src/core/starter/repository-tree.js";

/** A repository of these files; the starter reads the texts it wants, as `kozmic init` does. */
function repo(files: Record<string, string>): RepositoryTree {
  const paths = Object.keys(files);
  return {
    paths,
    texts: Object.fromEntries(paths.filter(wantsText).map((p) => [p, files[p]!])),
  };
}

function hooksOf(files: Record<string, string>) {
  const starter = renderStarterConfig(repo(files));
  return { starter, hooks: parseConfig(starter.text).hooks };
}

const pyproject = (body: string) => `[project]\nname = "app"\nversion = "1"\n${body}`;

test("every starter parses, names what it found, and says how to try it", () => {
  const { starter, hooks } = hooksOf({ "requirements.txt": "flask\n", "README.md": "" });
  assert.equal(hooks.length, 1);
  assert.equal(hooks[0]?.name, "test");
  assert.match(starter.text, /^# yaml-language-server: \$schema=\.\/kozmic\.schema\.json\n/);
  assert.match(starter.text, /Written by `kozmic init` for: requirements\.txt \(Python\)\./);
  assert.match(starter.text, /`kozmic run`/);
  assert.deepEqual(starter.hooks, [
    { name: "test", title: "Python", dir: "", evidence: ["requirements.txt"] },
  ]);
});

test("Python with a dependency group (Flask's layout) installs the group's pytest", () => {
  const { hooks } = hooksOf({
    "pyproject.toml": pyproject(
      'requires-python = ">=3.9"\ndependencies = ["werkzeug"]\n\n[dependency-groups]\ntests = ["pytest", "asgiref"]\ndocs = ["sphinx"]\n\n[build-system]\nrequires = ["flit_core<4"]\nbuild-backend = "flit_core.buildapi"\n',
    ),
    "uv.lock.bak": "",
    "tests/conftest.py": "",
  });
  const hook = hooks[0]!;
  assert.equal(hook.image, "python:3.13");
  assert.equal(
    hook.install,
    "pip install --upgrade pip # --group needs pip 25.1\npip install .\npip install --group tests\n",
  );
  assert.equal(hook.build, "pip install --no-deps .\npython -m pytest\n");
  assert.deepEqual(hook.tracked_files, ["pyproject.toml"]);
});

test("Python test extras, requirements files and a missing pytest", () => {
  const extras = hooksOf({
    "pyproject.toml": pyproject(
      'requires-python = ">=3.14"\n[project.optional-dependencies]\ntest = ["pytest"]\nspeedups = ["x"]\n',
    ),
    ".python-version": "3.12\n",
  }).hooks[0]!;
  assert.equal(extras.image, "python:3.12", ".python-version wins over requires-python");
  assert.match(extras.install!, /^pip install '\.\[test\]'$/m);
  assert.deepEqual(extras.tracked_files, ["pyproject.toml", ".python-version"]);
  const plain = hooksOf({
    "requirements.txt": "requests\n",
    "requirements/tests.txt": "pytest\n",
    "requirements/docs.txt": "sphinx\n",
  }).hooks[0]!;
  assert.equal(
    plain.install,
    "pip install -r requirements.txt\npip install -r requirements/tests.txt\n",
  );
  assert.equal(plain.build, "python -m pytest\n");
  const noPytest = hooksOf({ "requirements.txt": "requests\n" }).hooks[0]!;
  assert.match(noPytest.install!, /^pip install pytest$/m);
});

test("uv, Poetry and Pipenv projects install through their own tool, keyed on their lockfiles", () => {
  const uv = hooksOf({
    "pyproject.toml": pyproject('[dependency-groups]\ndev = ["pytest"]\ntest = ["hypothesis"]\n'),
    "uv.lock": "",
  }).hooks[0]!;
  assert.equal(uv.env.UV_PROJECT_ENVIRONMENT, "/opt/venv");
  assert.equal(
    uv.install,
    "pip install uv\nuv sync --locked --all-extras --group test --no-install-project\n",
  );
  assert.equal(
    uv.build,
    "uv sync --locked --all-extras --group test\nuv run --no-sync python -m pytest\n",
  );
  assert.deepEqual(uv.tracked_files, ["pyproject.toml", "uv.lock"]);

  const poetry = hooksOf({
    "pyproject.toml":
      '[tool.poetry]\nname = "app"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n\n[tool.poetry.group.test.dependencies]\npytest = "*"\n',
    "poetry.lock": "",
  }).hooks[0]!;
  assert.equal(poetry.image, "python:3.13");
  assert.equal(poetry.env.POETRY_VIRTUALENVS_CREATE, "false");
  assert.match(
    poetry.install!,
    /poetry install --no-interaction --no-root --all-extras --with test/,
  );
  assert.deepEqual(poetry.tracked_files, ["pyproject.toml", "poetry.lock"]);

  const pipenv = hooksOf({ Pipfile: "[dev-packages]\npytest = '*'\n", "Pipfile.lock": "{}" })
    .hooks[0]!;
  assert.equal(pipenv.install, "pip install pipenv\npipenv install --system --dev --deploy\n");
  assert.deepEqual(pipenv.tracked_files, ["Pipfile", "Pipfile.lock"]);
});

test("Node installs fill the package manager's cache; the build installs from it and tests", () => {
  const npm = hooksOf({
    "package.json": JSON.stringify({
      engines: { node: ">=18" },
      scripts: { build: "tsc", test: "vitest run" },
    }),
    "package-lock.json": "{}",
  }).hooks[0]!;
  assert.equal(npm.image, "node:22");
  assert.match(
    npm.install!,
    /cp -a \. \/tmp\/deps && cd \/tmp\/deps\nnpm ci --ignore-scripts --no-audit --no-fund\n/,
  );
  assert.equal(
    npm.build,
    "npm ci --prefer-offline --no-audit --no-fund\nnpm run build\nnpm test\n",
  );

  const pnpm = hooksOf({
    "package.json": JSON.stringify({ packageManager: "pnpm@9.12.0", scripts: { test: "vitest" } }),
    "pnpm-lock.yaml": "",
    "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n",
    "packages/a/package.json": JSON.stringify({ name: "a", scripts: { test: "x" } }),
    ".nvmrc": "20\n",
  }).hooks;
  assert.equal(pnpm.length, 1, "workspace members are the root's hook");
  assert.equal(pnpm[0]!.image, "node:20");
  assert.match(pnpm[0]!.install!, /^corepack enable$/m);
  assert.match(pnpm[0]!.build, /^pnpm install --frozen-lockfile --prefer-offline\npnpm test$/m);
  assert.deepEqual(pnpm[0]!.tracked_files, [
    "package.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    ".nvmrc",
    "packages/*/package.json",
  ]);

  const berry = hooksOf({
    "package.json": JSON.stringify({
      packageManager: "yarn@4.5.0",
      workspaces: ["libs/*"],
      scripts: { test: "jest" },
    }),
    "yarn.lock": "",
    ".yarnrc.yml": "nodeLinker: node-modules\n",
  }).hooks[0]!;
  assert.match(berry.install!, /yarn install --immutable --mode=skip-build/);
  assert.match(berry.build, /^yarn install --immutable\nyarn test\n$/);

  const untested = hooksOf({ "package.json": "{not json" }).hooks[0]!;
  assert.match(untested.build, /package.json has no test script/);
  assert.match(untested.build, /^npm install --prefer-offline/);
});

test("Go, Rust workspaces, Ruby, Maven, Gradle and PHP", () => {
  const go = hooksOf({ "go.mod": "module x\n\ngo 1.25.1\n", "go.sum": "" }).hooks[0]!;
  assert.equal(go.image, "golang:1.25");
  assert.equal(go.build, "go vet ./...\ngo test ./...\n");
  assert.match(go.install!, /^go mod download\n/);

  const rust = hooksOf({
    "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
    "Cargo.lock": "",
    "crates/a/Cargo.toml": '[package]\nname = "a"\n',
    "rust-toolchain.toml": '[toolchain]\nchannel = "1.82"\n',
  }).hooks;
  assert.equal(rust.length, 1);
  assert.equal(rust[0]!.image, "rust:1.82");
  assert.equal(rust[0]!.build, "cargo test --workspace --locked\n");
  assert.equal(rust[0]!.env.CARGO_TARGET_DIR, "/var/tmp/cargo-target");
  assert.deepEqual(rust[0]!.tracked_files, [
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    "crates/*/Cargo.toml",
  ]);

  const ruby = hooksOf({
    Gemfile: 'source "https://rubygems.org"\ngemspec\n',
    "Gemfile.lock": "",
    "app.gemspec": "",
    ".ruby-version": "3.2.2\n",
    "spec/app_spec.rb": "",
  }).hooks[0]!;
  assert.equal(ruby.image, "ruby:3.2");
  assert.equal(ruby.build, "bundle exec rspec\n");
  assert.deepEqual(ruby.tracked_files, ["Gemfile", "Gemfile.lock", ".ruby-version", "*.gemspec"]);

  const maven = hooksOf({
    "pom.xml":
      "<project><properties><maven.compiler.release>17</maven.compiler.release></properties><modules><module>core</module></modules></project>",
    "core/pom.xml": "<project/>",
    mvnw: "",
  }).hooks;
  assert.equal(maven.length, 1, "modules are the parent's hook");
  assert.equal(maven[0]!.image, "eclipse-temurin:17");
  assert.equal(maven[0]!.build, "./mvnw -B -ntp test\n");
  assert.deepEqual(maven[0]!.tracked_files, ["pom.xml", "core/pom.xml"]);

  const gradle = hooksOf({
    "settings.gradle.kts": "",
    "build.gradle.kts": "kotlin { jvmToolchain(17) }",
  }).hooks[0]!;
  assert.equal(gradle.image, "gradle:8-jdk17");
  assert.equal(gradle.build, "gradle --no-daemon test\n");

  const php = hooksOf({
    "composer.json": JSON.stringify({
      require: { php: "^8.1" },
      "require-dev": { "phpunit/phpunit": "^10" },
    }),
    "composer.lock": "{}",
  }).hooks[0]!;
  assert.equal(php.image, "php:8.4-cli");
  assert.match(php.build, /^composer install .*\nvendor\/bin\/phpunit\n$/);
});

test("a monorepo gets a hook per project, each run in its directory", () => {
  const { starter, hooks } = hooksOf({
    "backend/pyproject.toml": pyproject('[project.optional-dependencies]\ntest = ["pytest"]\n'),
    "frontend/package.json": JSON.stringify({ scripts: { test: "vitest" } }),
    "frontend/package-lock.json": "{}",
    "backend/tests/test_api.py": "",
    "services/api/go.mod": "module api\n\ngo 1.23\n",
    "services/api/main_test.go": "",
    "tasks/termux/requirements.txt": "requests\n",
    "docs/package.json": JSON.stringify({ scripts: { test: "x" } }),
    "tests/fixtures/Cargo.toml": "",
    "node_modules/x/package.json": "{}",
  });
  assert.deepEqual(
    hooks.map((h) => [h.name, h.image]),
    [
      ["test backend", "python:3.13"],
      ["test frontend", "node:22"],
      ["test services api", "golang:1.23"],
    ],
  );
  assert.match(hooks[0]!.install!, /^cd backend\n/);
  assert.match(hooks[1]!.build, /^cd frontend\nnpm ci/);
  assert.deepEqual(hooks[2]!.tracked_files, ["services/api/go.mod"]);
  assert.equal(starter.hooks.length, 3);
  assert.match(
    starter.text,
    /# Not given a hook: tasks\/termux\/requirements\.txt \(Python\)\./,
    "a directory with a manifest but no tests is not a project to test",
  );
});

test("a package.json without tests beside another language is tooling, named but given no hook", () => {
  const { starter, hooks } = hooksOf({
    "pyproject.toml": pyproject(""),
    "package.json": JSON.stringify({ devDependencies: { prettier: "3" } }),
  });
  assert.deepEqual(
    hooks.map((h) => h.name),
    ["test"],
  );
  assert.match(starter.text, /# Not given a hook: package\.json \(Node\.js\)\./);
});

test("a Makefile runs its test target; with nothing recognised, a generic hook that parses", () => {
  const make = hooksOf({ Makefile: "all:\n\tcc x.c\ntest: all\n\t./a.out\n" }).hooks[0]!;
  assert.equal(make.build, "make test\n");
  const generic = hooksOf({ "README.md": "", "main.c": "" });
  assert.equal(generic.hooks[0]?.image, "debian:bookworm");
  assert.equal(generic.hooks[0]?.install, undefined);
  assert.match(generic.starter.text, /^ {4}# install: \|$/m);
  assert.match(
    generic.starter.text,
    /no Python, Node\.js, Go, Rust, Ruby, Java, PHP or Makefile project found/,
  );
});

test("Python tests run as tox runs them when that is unittest, with no pytest installed", () => {
  const hook = hooksOf({
    "pyproject.toml": pyproject(
      '[project.optional-dependencies]\ntesting = ["coverage", "pyyaml"]\n',
    ),
    "tox.ini":
      "[testenv]\nextras = testing\ncommands =\n    coverage run --source=markdown -m unittest discover {toxinidir}/tests {posargs}\n",
  }).hooks[0]!;
  assert.equal(hook.install, "pip install '.[testing]'\n");
  assert.equal(hook.build, "pip install --no-deps .\npython -m unittest discover tests\n");
});

test("Pipfile's python_version picks the image; an Apache build is told to exclude .github from RAT", () => {
  const pipenv = hooksOf({ Pipfile: '[requires]\npython_version = "3.12"\n' }).hooks[0]!;
  assert.equal(pipenv.image, "python:3.12");
  const apache = hooksOf({
    "pom.xml": "<project><parent><groupId>org.apache.maven.plugins</groupId></parent></project>",
  });
  assert.match(apache.starter.text, /Apache RAT .* add \.github\/\*\* to its excludes/s);
});
