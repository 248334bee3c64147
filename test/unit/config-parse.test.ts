import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { MAX_HOOKS } from "../../src/core/config/schema.js";
import {
  formatConfigIssues,
  formatConfigIssuesForTerminal,
} from "../../src/core/config/format-config-issues.js";
import { ConfigError, PermanentError, type ConfigIssue } from "../../src/core/errors.js";

function issuesOf(text: string): ConfigIssue[] {
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail("expected the configuration to be rejected");
}

function brief(issues: ConfigIssue[]): string[] {
  return issues.map((i) => `${i.line}:${i.column} ${i.message}`);
}

test("a full valid example parses with defaults applied", () => {
  const config = parseConfig(`# yaml-language-server: $schema=../schema/kozmic.schema.json
hooks:
  - name: test
    image: python:3.12
    install: |
      pip install -r requirements.txt
    build: pytest
    tracked_files: [requirements.txt, "constraints/*.txt"]
    reports: [junit.xml, "build/test-results/**/*.xml"]
    timeout: 1h30m
    stall_timeout: 90s
    env: { CI: true, LEVEL: 3, NAME: kozmic }
    secrets: [PYPI_TOKEN, DEPLOY_KEY]
    memory: 2g
    cpus: 1.5
  - name: lint
    image: node:20
    build: npm run lint
`);
  assert.deepEqual(config, {
    hooks: [
      {
        name: "test",
        image: "python:3.12",
        install: "pip install -r requirements.txt\n",
        build: "pytest",
        echo: true,
        tracked_files: ["requirements.txt", "constraints/*.txt"],
        reports: ["junit.xml", "build/test-results/**/*.xml"],
        artifacts: { paths: [], when: "always" },
        timeout: 5400,
        stall_timeout: 90,
        env: { CI: "true", LEVEL: "3", NAME: "kozmic" },
        secrets: ["PYPI_TOKEN", "DEPLOY_KEY"],
        pull: "if-not-present",
        network: "default",
        memory: 2 * 1024 ** 3,
        cpus: 1.5,
        cancel_superseded: true,
      },
      {
        name: "lint",
        image: "node:20",
        build: "npm run lint",
        echo: true,
        tracked_files: [],
        reports: [],
        artifacts: { paths: [], when: "always" },
        timeout: 3600,
        stall_timeout: 900,
        env: {},
        secrets: [],
        pull: "if-not-present",
        network: "default",
        cancel_superseded: true,
      },
    ],
  });
});

test("secrets: a name in both env and secrets is refused", () => {
  const messages = issuesOf(`hooks:
  - name: test
    image: node:20
    build: npm test
    env: { PYPI_TOKEN: plain }
    secrets: [PYPI_TOKEN]
`).map((issue) => issue.message);
  assert.deepEqual(messages, [
    'hook "test": secrets[0]: PYPI_TOKEN is also in env: a variable is either plain (env) or a secret, not both, found "PYPI_TOKEN"',
  ]);
});

test("secrets: names as environment variables, each once, none of Kozmic's own", () => {
  const messages = issuesOf(`hooks:
  - name: test
    image: node:20
    build: npm test
    secrets: [PYPI_TOKEN, 1TOKEN, PYPI_TOKEN, KOZMIC_KEY, "A B"]
`).map((issue) => issue.message);
  const name =
    "a secret's name is letters, digits and '_', not starting with a digit (at most 100), e.g. PYPI_TOKEN";
  assert.deepEqual(messages, [
    `hook "test": secrets[1]: ${name}, found "1TOKEN"`,
    'hook "test": secrets[2]: listed twice, found "PYPI_TOKEN"',
    `hook "test": secrets[3]: names starting with KOZMIC_ are Kozmic's own, found "KOZMIC_KEY"`,
    `hook "test": secrets[4]: ${name}, found "A B"`,
  ]);
});

test("every schema problem is listed with its line, column and hook name", () => {
  const issues = issuesOf(`hooks:
  - name: test
    image: node:20
    buidl: npm test
    timeout: soon
    pull: sometimes
  - name: lint
    image: node:20
    build: [a]
    memory: true
  - image: 3
    build: make
other: 1
`);
  assert.deepEqual(brief(issues), [
    '2:5 hook "test": missing required key "build"',
    '4:5 hook "test": unknown key "buidl" — did you mean "build"?',
    '5:14 hook "test": timeout: expected a duration such as "90s", "15m" or "1h30m", found "soon"',
    '6:11 hook "test": pull: expected one of "if-not-present", "always", found "sometimes"',
    '9:12 hook "lint": build: expected a string, found a list',
    '10:13 hook "lint": memory: expected a size such as "512m" or "2g", found boolean true',
    '11:5 hooks[2]: missing required key "name"',
    "11:12 hooks[2]: image: expected a string, found number 3",
    '13:1 unknown key "other"',
  ]);
  assert.deepEqual(issues[2]?.path, ["hooks", 0, "timeout"]);
  assert.deepEqual(issues[8]?.path, ["other"]);
});

test("the error message is a readable file:line:column summary", () => {
  const text = "hooks:\n  - name: test\n    image: node:20\n    build: make\n    timeout: never\n";
  assert.throws(
    () => parseConfig(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error instanceof PermanentError);
      assert.equal(
        error.message,
        "invalid configuration (1 problem):\n" +
          '.github/kozmic.yml:5:14: hook "test": timeout: expected a duration such as "90s", "15m" or "1h30m", found "never"',
      );
      assert.equal(
        formatConfigIssuesForTerminal(error.issues, text),
        '.github/kozmic.yml:5:14: hook "test": timeout: expected a duration such as "90s", "15m" or "1h30m", found "never"\n' +
          "5 |     timeout: never\n" +
          "                 ^",
      );
      return true;
    },
  );
});

test("numbers that cannot be durations or sizes are refused with the same message", () => {
  const issues = issuesOf(
    "hooks:\n  - name: t\n    image: a\n    build: b\n    timeout: 0\n    stall_timeout: -5\n    memory: 1.5\n    cpus: 0\n    network: [x]\n",
  );
  assert.deepEqual(brief(issues), [
    '5:14 hook "t": timeout: expected a duration such as "90s", "15m" or "1h30m", found number 0',
    '6:20 hook "t": stall_timeout: expected a duration such as "90s", "15m" or "1h30m", found number -5',
    '7:13 hook "t": memory: expected a size such as "512m" or "2g", found number 1.5',
    '8:11 hook "t": cpus: expected more than 0, found number 0',
    '9:14 hook "t": network: expected one of "default", "none", "host", found a list',
  ]);
});

test("wrong shapes and bad env entries are named in plain words", () => {
  assert.deepEqual(brief(issuesOf("hooks:\n")), ["1:7 hooks: expected a list, found null"]);
  assert.deepEqual(brief(issuesOf("hooks:\n  - 1\n")), [
    "2:5 hooks[0]: expected a mapping, found number 1",
  ]);
  assert.deepEqual(brief(issuesOf("foo: 1\n")), [
    '1:1 missing required key "hooks"',
    '1:1 unknown key "foo"',
  ]);
  assert.deepEqual(
    brief(
      issuesOf(
        "hooks:\n  - name: t\n    image: a\n    build: b\n    env:\n      1BAD: x\n      OK: {a: 1}\n",
      ),
    ),
    [
      `6:7 hook "t": env: invalid key "1BAD": expected a variable name of letters, digits and '_', not starting with a digit`,
      '7:11 hook "t": env.OK: expected a string, number or boolean, found a mapping',
    ],
  );
});

test("the full example in docs/configuration.md is valid", async () => {
  const docs = await readFile(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  const example = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(example, "docs/configuration.md has a yaml example");
  const config = parseConfig(example);
  assert.deepEqual(
    config.hooks.map((h) => [h.name, h.timeout, h.memory]),
    [
      ["test", 1800, 2 * 1024 ** 3],
      ["lint", 3600, undefined],
    ],
  );
});

test("duplicate hook names point at the second one", () => {
  const issues = issuesOf(`hooks:
  - name: test
    image: a
    build: b
  - name: test
    image: a
    build: b
`);
  assert.deepEqual(brief(issues), [
    '5:11 duplicate hook name "test" (first used by hooks[0] on line 2); hook names must be unique',
  ]);
});

test(`a configuration may declare ${MAX_HOOKS} hooks, and one more is refused with the count`, () => {
  const hooks = (n: number) =>
    "hooks:\n" +
    Array.from(
      { length: n },
      (_, i) => `  - name: h${i}\n    image: node:20\n    build: make\n`,
    ).join("");
  assert.equal(MAX_HOOKS, 50);
  assert.equal(parseConfig(hooks(50)).hooks.length, 50);
  const issues = issuesOf(hooks(51));
  assert.deepEqual(issues, [
    {
      message:
        "hooks: a configuration may declare at most 50 hooks; this one declares 51 " +
        "(merge hooks that use the same image into one hook whose build script runs each of their steps)",
      path: ["hooks"],
      line: 2,
      column: 3,
    },
  ]);
});

test("names and keys from the file are quoted as JSON strings, so each problem stays on one line", () => {
  const issues = issuesOf(
    'hooks:\n  - name: "a\\nb"\n    image: node:20\n    build: make\n    "x\\n\\"y": 1\n',
  );
  assert.deepEqual(brief(issues), [
    "2:11 hook \"a\\nb\": name: expected letters, digits, spaces, '.', '_' or '-', starting with a letter or digit, found \"a\\nb\"",
    '5:5 hook "a\\nb": unknown key "x\\n\\"y"',
  ]);
});

test("duplicate YAML keys are reported, together with schema problems", () => {
  const issues = issuesOf(`hooks:
  - name: test
    image: a
    build: b
    build: c
    timeout: x
`);
  assert.deepEqual(brief(issues), [
    '5:5 duplicate key "build": each key may appear once per mapping',
    '6:14 hook "test": timeout: expected a duration such as "90s", "15m" or "1h30m", found "x"',
  ]);
});

test("YAML syntax errors carry their position", () => {
  assert.deepEqual(brief(issuesOf("hooks:\n\t- name: x\n")), [
    "2:1 YAML syntax error: Tabs are not allowed as indentation",
  ]);
  assert.deepEqual(brief(issuesOf("hooks:\n  - name: x\n    image: a: b\n")), [
    "3:12 YAML syntax error: Nested mappings are not allowed in compact mappings",
  ]);
});

test("an unclosed quote is reported where it opens, not at the end of the file", () => {
  assert.deepEqual(brief(issuesOf('hooks:\n  - name: "test\n    image: a\n')), [
    '2:11 YAML syntax error: the quote opened here is never closed (Missing closing "quote)',
  ]);
  assert.deepEqual(brief(issuesOf("hooks:\n  - name: x\n    image: 'alpine\n    build: b\n")), [
    "3:12 YAML syntax error: the quote opened here is never closed (Missing closing 'quote)",
  ]);
});

test("several YAML documents and oversized files are refused", () => {
  assert.deepEqual(brief(issuesOf("hooks: []\n---\nhooks: []\n")), [
    '2:1 a second YAML document starts here ("---"); the file must hold one document',
  ]);
  const huge = "hooks:\n" + "# padding\n".repeat(30_000);
  assert.deepEqual(issuesOf(huge), [
    { message: "the file is 300007 characters long; at most 262144 are read", path: [] },
  ]);
});

test("an empty file, a comment-only file and a non-mapping top level are refused", () => {
  for (const empty of ["", "\n\n", "# nothing here\n"]) {
    assert.deepEqual(brief(issuesOf(empty)), [
      '1:1 the file is empty; expected a mapping with a "hooks" list',
    ]);
  }
  assert.deepEqual(brief(issuesOf("- a\n- b\n")), [
    '1:1 expected a mapping with a "hooks" list at the top level, found a list',
  ]);
  assert.deepEqual(brief(issuesOf("\njust text\n")), [
    '2:1 expected a mapping with a "hooks" list at the top level, found "just text"',
  ]);
  assert.deepEqual(brief(issuesOf("hooks: []\n")), ["1:8 hooks: expected at least one hook"]);
});

test("hostile tracked_files entries are refused with a reason each", () => {
  const issues = issuesOf(`hooks:
  - name: t
    image: a
    build: b
    tracked_files:
      - /etc/passwd
      - ../outside
      - a/../../b
      - 'dir\\file'
      - "nul\\0byte"
      - ""
      - "~/.ssh/id_rsa"
      - C:/Windows
      - ok/*.txt
`);
  assert.deepEqual(brief(issues), [
    '6:9 hook "t": tracked_files[0]: must be relative to the repository root, not absolute, found "/etc/passwd"',
    '7:9 hook "t": tracked_files[1]: must not contain ".." segments, found "../outside"',
    '8:9 hook "t": tracked_files[2]: must not contain ".." segments, found "a/../../b"',
    '9:9 hook "t": tracked_files[3]: must use "/" as separator, found a backslash',
    '10:9 hook "t": tracked_files[4]: must not contain a NUL character, found "nul\\u0000byte"',
    '11:9 hook "t": tracked_files[5]: must not be empty, found ""',
    '12:9 hook "t": tracked_files[6]: must be relative to the repository root, not start with "~", found "~/.ssh/id_rsa"',
    '13:9 hook "t": tracked_files[7]: must be relative to the repository root, not absolute, found "C:/Windows"',
  ]);
});

test("reports: paths outside the repository are refused with a reason each", () => {
  const issues = issuesOf(`hooks:
  - name: t
    image: a
    build: b
    reports:
      - /kozmic/src/junit.xml
      - ../junit.xml
      - build/../../x.xml
      - ""
      - build/test-results/**/*.xml
`);
  assert.deepEqual(brief(issues), [
    '6:9 hook "t": reports[0]: must be relative to the repository root, not absolute, found "/kozmic/src/junit.xml"',
    '7:9 hook "t": reports[1]: must not contain ".." segments, found "../junit.xml"',
    '8:9 hook "t": reports[2]: must not contain ".." segments, found "build/../../x.xml"',
    '9:9 hook "t": reports[3]: must not be empty, found ""',
  ]);
  const many = issuesOf(
    `hooks:\n  - name: t\n    image: a\n    build: b\n    reports: [${Array(21).fill("a.xml").join(", ")}]\n`,
  );
  assert.deepEqual(brief(many), [
    '5:14 hook "t": reports: expected at most 20 patterns, found a list',
  ]);
});

test("alias bombs are refused rather than expanded", () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(",")}]`);
  }
  const issues = issuesOf(lines.join("\n") + "\n");
  assert.match(issues[0]!.message, /alias/i);
});

test("formatConfigIssues prints one line per issue, without a position when unknown", () => {
  assert.equal(
    formatConfigIssues([
      { message: "a", path: [], line: 3, column: 7 },
      { message: "b", path: [] },
    ]),
    ".github/kozmic.yml:3:7: a\n.github/kozmic.yml: b",
  );
});

test("a hook's image is a name: IDs and Kozmic's cache images are configuration errors with their line", () => {
  const text = (image: string) =>
    `hooks:\n  - name: t\n    build: b\n    image: ${JSON.stringify(image)}\n`;
  assert.deepEqual(brief(issuesOf(text("kozmic-cache/12345:abc"))), [
    '4:12 hook "t": image: `kozmic-cache/` holds Kozmic\'s install cache, which only Kozmic writes: ' +
      'name the base image and put the set-up in `install:`, found "kozmic-cache/12345:abc"',
  ]);
  for (const hidden of ["docker.io/kozmic-cache/x:y", "KOZMIC-CACHE/x"]) {
    assert.match(brief(issuesOf(text(hidden)))[0]!, /holds Kozmic's install cache/, hidden);
  }
  for (const id of ["sha256:" + "9b".repeat(32), "9b".repeat(32)]) {
    assert.match(
      brief(issuesOf(text(id)))[0]!,
      /^4:12 hook "t": image: expected an image name such as `python:3.12`, not an image ID, found /,
    );
  }
  // A short hex string is a valid name (and is looked up as `9b1ba2:latest`, never as an ID).
  assert.equal(parseConfig(text("9b1ba2")).hooks[0]?.image, "9b1ba2");
  assert.equal(parseConfig(text("ghcr.io/org/app@sha256:" + "1".repeat(64))).hooks.length, 1);
});

test("a hook's image is named as Docker names images: upper case and bad tags are errors at config time", () => {
  const text = (image: string) =>
    `hooks:\n  - name: t\n    build: b\n    image: ${JSON.stringify(image)}\n`;
  assert.deepEqual(brief(issuesOf(text("Python:3.12"))), [
    '4:12 hook "t": image: Docker image names are lowercase (Docker refuses this one): ' +
      'write `python:3.12`, found "Python:3.12"',
  ]);
  // A registry host is not case-sensitive; the path after it is.
  assert.match(
    brief(issuesOf(text("Registry.Example.com/Team/App")))[0]!,
    /write `Registry\.Example\.com\/team\/app`/,
  );
  assert.match(brief(issuesOf(text("ci/py--thon..x")))[0]!, /`py--thon\.\.x` is not a valid part/);
  assert.match(brief(issuesOf(text("python:.3")))[0]!, /`\.3` is not a valid Docker tag/);
  for (const good of [
    "python:3.12-slim",
    "localhost:5000/ci/python_base:bookworm",
    "ghcr.io/org/my-app__x:v1.2.3",
    "REGISTRY.example.com/org/app",
  ]) {
    assert.equal(parseConfig(text(good)).hooks[0]?.image, good, good);
  }
});

test("user: root, a name or uid[:gid]", () => {
  const text = (user: string) =>
    `hooks:\n  - name: t\n    image: a\n    build: b\n    user: ${JSON.stringify(user)}\n`;
  for (const user of ["root", "builder", "1000", "1000:1000"]) {
    assert.equal(parseConfig(text(user)).hooks[0]?.user, user);
  }
  assert.deepEqual(brief(issuesOf(text("me; rm -rf /"))), [
    '5:11 hook "t": user: expected "root", a user name of the image, or a numeric uid[:gid], found "me; rm -rf /"',
  ]);
});

test("artifacts: a list of patterns or {paths, when}; paths stay inside the checkout", () => {
  const hook = (artifacts: string) =>
    parseConfig(
      `hooks:\n  - name: t\n    image: debian:12\n    build: make\n    artifacts: ${artifacts}\n`,
    ).hooks[0]!.artifacts;
  assert.deepEqual(hook("[dist/*.whl, /kozmic/src/coverage.xml]"), {
    paths: ["dist/*.whl", "coverage.xml"],
    when: "always",
  });
  assert.deepEqual(hook("{paths: [dist/*.whl], when: success}"), {
    paths: ["dist/*.whl"],
    when: "success",
  });
  const problems = (artifacts: string) =>
    issuesOf(
      `hooks:\n  - name: t\n    image: debian:12\n    build: make\n    artifacts: ${artifacts}\n`,
    )
      .map((i) => i.message)
      .join("\n");
  assert.match(problems("[/etc/passwd]"), /must be under \/kozmic\/src\//);
  assert.match(problems("[../up.txt]"), /must not contain "\.\." segments/);
  assert.match(problems("[/kozmic/src/../etc]"), /must not contain "\.\." segments/);
  assert.match(
    problems("{paths: [a], when: sometimes}"),
    /expected a list of paths, or \{paths: \[\.\.\.\], when: always or success\}/,
  );
});
