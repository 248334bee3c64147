import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { runKozmic } from "../support/kozmic-cli.js";
import { ensureMariadbImage, MARIADB_IMAGE } from "../support/mariadb-image.js";
import { ensureStandInImage } from "../support/stand-in-image.js";
import { onStandIn, STAND_IN_CONCURRENCY, standInWorkspace } from "../support/stand-in-run.js";

/**
 * The configurations the README and docs show, run as a reader would run them: each in a
 * small project with the files it names, its images swapped for the stand-in of the official
 * ones (nothing can be pulled here). A docs example that cannot work fails here.
 */
const DOCS = ["README.md", "docs/configuration.md", "docs/getting-started.md", "docs/runner.md"];
const space = standInWorkspace("kozmic-docs-");

/** Every ```yaml block of a file that is a whole `.github/kozmic.yml`. */
function examples(file: string): string[] {
  const text = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((yaml) => /^hooks:/m.test(yaml));
}

const PYTEST = "def test_ok():\n    assert 1 + 1 == 2\n";
const REDIS_PING = `import socket


def test_redis_answers():
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as s:
        s.sendall(b"PING\\r\\n")
        assert s.recv(16).startswith(b"+PONG")
`;

const MARIADB_QUERY = `import os

import pymysql


def test_mariadb_answers():
    db = pymysql.connect(host=os.environ["DATABASE_HOST"], user="app", password="app-secret", database="app")
    with db.cursor() as cursor:
        cursor.execute("SELECT 6 * 7")
        assert cursor.fetchone() == (42,)
`;

/** The files each example's scripts need, by a line of the example that tells it apart. */
const PROJECTS: { marks: RegExp; files: Record<string, string>; output: RegExp[] }[] = [
  {
    marks: /services:/,
    files: { "requirements.txt": "pytest\nPyMySQL\n", "test_db.py": MARIADB_QUERY },
    output: [/1 passed/, /==> service db: healthy after/],
  },
  {
    marks: /redis-server start\n\s+python -m pytest -q/,
    files: { "requirements.txt": "pytest\n", "test_redis.py": REDIS_PING },
    output: [/1 passed/],
  },
  {
    marks: /name: lint/,
    files: {
      "requirements.txt": "pytest\n",
      "test_app.py": PYTEST,
      "package.json": JSON.stringify({
        name: "docs-example",
        version: "1.0.0",
        scripts: { lint: "semver 1.2.3" },
        devDependencies: { semver: "7.6.3" },
      }),
    },
    output: [/1 passed/, /^1\.2\.3$/m],
  },
  {
    marks: /matrix:/,
    files: { "requirements.txt": "pytest\n", "test_app.py": PYTEST },
    output: [
      /^python 3\.12 with postgres$/m,
      /^test \(python 3\.11, db sqlite\): success/m,
      /^test \(python 3\.12, db sqlite\): success/m,
      /^test \(python 3\.12, db postgres\): success/m,
    ],
  },
  {
    marks: /needs: \[test, package\]/,
    files: { "requirements.txt": "pytest\n", "test_app.py": PYTEST },
    // deploy after both hooks it needs.
    output: [/1 passed[\s\S]*^packaged$[\s\S]*^deploying$/m],
  },
  {
    marks: /paths_ignore:/,
    files: { "requirements.txt": "pytest\n", "test_app.py": PYTEST },
    output: [/1 passed/, /^deploying$/m, /^releasing$/m],
  },
  {
    marks: /^schedule:/m,
    files: {},
    output: [/^nightly checks$/m],
  },
  {
    marks: /^\s+artifacts:/m,
    files: { "requirements.txt": "pytest\npytest-cov\n", "test_app.py": PYTEST },
    output: [/1 passed/, /artifacts: kept dist\/app\.zip/, /artifacts: kept coverage\.xml/],
  },
  {
    marks: /python -m pytest --cov/,
    files: { "requirements.txt": "pytest\npytest-cov\n", "test_app.py": PYTEST },
    output: [/1 passed/, /coverage: platform/],
  },
];

describe("the docs' configuration examples", { concurrency: STAND_IN_CONCURRENCY }, () => {
  const all = DOCS.flatMap((file) => examples(file).map((yaml) => ({ file, yaml })));

  it("every example parses", () => {
    assert.ok(all.length >= 3, `found ${all.length} examples`);
    for (const { file, yaml } of all) assert.doesNotThrow(() => parseConfig(yaml), file);
  });

  const standIn = ensureStandInImage();
  for (const [index, { file, yaml }] of all.entries()) {
    const project = PROJECTS.find((p) => p.marks.test(yaml));
    it(`${file} example ${index + 1} runs and passes`, async () => {
      assert.ok(project, `${file} has an example the test does not know how to run:\n${yaml}`);
      const dir = space.track(join(space.work, `example-${index + 1}`));
      mkdirSync(join(dir, ".github"), { recursive: true });
      for (const [name, text] of Object.entries(project.files))
        writeFileSync(join(dir, name), text);
      if (project.files["package.json"])
        execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit"], {
          cwd: dir,
          stdio: "ignore",
        });
      // A service's `mariadb:` image is MariaDB from Debian's packages here.
      const text = onStandIn(
        yaml,
        parseConfig(yaml).hooks.map((h) => h.image),
      ).replace(/image: mariadb:\S+/g, () => `image: ${ensureMariadbImage() && MARIADB_IMAGE}`);
      writeFileSync(join(dir, ".github/kozmic.yml"), text);
      // Artifacts beside the example, not in the working directory of the test.
      const artifacts = space.track(join(space.work, `artifacts-${index + 1}`));
      const run = await runKozmic(["run", dir, "--artifacts", artifacts], {
        env: space.env({ KOZMIC_MAX_MEMORY: "4g", KOZMIC_MAX_CPUS: "2" }),
      });
      const output = run.stdout + run.stderr;
      assert.equal(run.code, 0, `${text}\n${output.slice(-5000)}`);
      for (const expected of project.output) assert.match(output, expected);
      assert.ok(standIn);
    });
  }
});
