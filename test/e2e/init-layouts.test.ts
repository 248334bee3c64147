import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { runKozmic } from "../support/kozmic-cli.js";
import { ensureStandInImage } from "../support/stand-in-image.js";
import { onStandIn, STAND_IN_CONCURRENCY, standInWorkspace } from "../support/stand-in-run.js";

/**
 * The layouts no registry publishes with their tests (pnpm and Yarn workspaces, a Cargo
 * workspace, Pipenv, a monorepo of three languages), as small projects written here that
 * depend on real packages: `kozmic init` + `kozmic run` must install them with the real
 * package managers and pass. real-projects.test.ts covers published projects.
 */
const space = standInWorkspace("kozmic-layouts-");

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
/** A node:test file asserting that a workspace package resolves and a registry package works. */
const nodeTest = (imports: string, check: string) =>
  `import test from "node:test";\nimport assert from "node:assert/strict";\n${imports}\ntest("works", () => { ${check} });\n`;

const LAYOUTS: {
  name: string;
  files: Record<string, string>;
  hooks: [name: string, image: string][];
  output: RegExp[];
}[] = [
  {
    name: "pnpm workspace",
    files: {
      "package.json": json({
        name: "pnpm-root",
        private: true,
        packageManager: "pnpm@9.15.9",
        scripts: { test: "pnpm -r test" },
      }),
      "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n",
      "packages/util/package.json": json({
        name: "@demo/util",
        version: "1.0.0",
        type: "module",
        main: "index.js",
        dependencies: { "is-number": "7.0.0" },
      }),
      "packages/util/index.js":
        'import isNumber from "is-number";\nexport const double = (n) => (isNumber(n) ? n * 2 : NaN);\n',
      "packages/app/package.json": json({
        name: "@demo/app",
        version: "1.0.0",
        type: "module",
        dependencies: { "@demo/util": "workspace:*" },
        scripts: { test: "node --test" },
      }),
      "packages/app/app.test.js": nodeTest(
        'import { double } from "@demo/util";',
        "assert.equal(double(21), 42);",
      ),
    },
    hooks: [["test", "node:22"]],
    output: [/# pass 1/],
  },
  {
    name: "Yarn Berry workspaces",
    files: {
      "package.json": json({
        name: "yarn-root",
        private: true,
        packageManager: "yarn@4.9.1",
        workspaces: ["libs/*"],
        scripts: { test: "yarn workspaces foreach -A run test" },
      }),
      ".yarnrc.yml": "nodeLinker: node-modules\nenableGlobalCache: true\n",
      "libs/greet/package.json": json({
        name: "greet",
        version: "1.0.0",
        type: "module",
        dependencies: { "is-number": "7.0.0" },
        scripts: { test: "node --test" },
      }),
      "libs/greet/greet.test.js": nodeTest(
        'import isNumber from "is-number";',
        "assert.ok(isNumber(7));",
      ),
    },
    hooks: [["test", "node:22"]],
    output: [/# pass 1/],
  },
  {
    name: "Cargo workspace",
    files: {
      "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n',
      "crates/core/Cargo.toml":
        '[package]\nname = "demo-core"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n',
      "crates/core/src/lib.rs":
        "pub fn show(n: u64) -> String {\n    itoa::Buffer::new().format(n).to_string()\n}\n",
      "crates/cli/Cargo.toml":
        '[package]\nname = "demo-cli"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ndemo-core = { path = "../core" }\n',
      "crates/cli/src/lib.rs":
        '#[cfg(test)]\nmod tests {\n    #[test]\n    fn shows() {\n        assert_eq!(demo_core::show(42), "42");\n    }\n}\n',
    },
    hooks: [["test", "rust:1"]],
    output: [/test tests::shows \.\.\. ok/],
  },
  {
    name: "Pipenv",
    files: {
      Pipfile: '[packages]\nsix = "*"\n\n[dev-packages]\npytest = "*"\n',
      "test_six.py": "import six\n\n\ndef test_six():\n    assert six.PY3\n",
    },
    hooks: [["test", "python:3.13"]],
    output: [/1 passed/],
  },
  {
    name: "a monorepo of Python, Node.js and Go",
    files: {
      "backend/requirements.txt": "pytest\n",
      "backend/tests/test_api.py": "def test_api():\n    assert 'ok'.upper() == 'OK'\n",
      "web/package.json": json({ name: "web", type: "module", scripts: { test: "node --test" } }),
      "web/web.test.js": nodeTest("", "assert.equal(1 + 1, 2);"),
      "services/api/go.mod": "module example.com/api\n\ngo 1.22\n",
      "services/api/api.go": "package api\n\nfunc Answer() int { return 42 }\n",
      "services/api/api_test.go":
        'package api\n\nimport "testing"\n\nfunc TestAnswer(t *testing.T) {\n\tif Answer() != 42 {\n\t\tt.Fatal("wrong")\n\t}\n}\n',
    },
    hooks: [
      ["test backend", "python:3.13"],
      ["test web", "node:22"],
      ["test services api", "golang:1.22"],
    ],
    output: [/1 passed/, /# pass 1/, /^ok\s+example\.com\/api/m],
  },
];

describe(
  "kozmic init + kozmic run on workspaces and monorepos, with real package managers",
  { concurrency: STAND_IN_CONCURRENCY },
  () => {
    const standIn = ensureStandInImage();
    for (const layout of LAYOUTS) {
      it(layout.name, async () => {
        const dir = space.track(join(space.work, layout.name.replace(/\W+/g, "-")));
        for (const [path, text] of Object.entries(layout.files)) {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), text);
        }
        const env = space.env();
        const init = await runKozmic(["init", dir], { env });
        assert.equal(init.code, 0, init.stdout + init.stderr);
        const file = join(dir, ".github/kozmic.yml");
        let text = readFileSync(file, "utf8");
        assert.deepEqual(
          parseConfig(text).hooks.map((h) => [h.name, h.image]),
          layout.hooks,
          text,
        );
        text = onStandIn(
          text,
          layout.hooks.map(([, image]) => image),
        );
        writeFileSync(file, text);
        const run = await runKozmic(["run", dir], { env });
        const output = run.stdout + run.stderr;
        assert.equal(run.code, 0, `${text}\n${output.slice(-6000)}`);
        for (const expected of layout.output) assert.match(output, expected);
        for (const [name] of layout.hooks)
          assert.match(output, new RegExp(`^${name}: success in`, "m"));
        assert.ok(standIn);
      });
    }
  },
);
