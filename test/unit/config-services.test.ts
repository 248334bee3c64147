import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/core/config/parse-config.js";
import { MAX_SERVICES } from "../../src/core/config/schema.js";
import { ConfigError } from "../../src/core/errors.js";

/** The problems of a rejected configuration, as `line:column message`. */
function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  assert.fail("expected the configuration to be rejected");
}

const hook = (services: string, more = "") => `hooks:
  - name: test
    image: python:3.12
    build: pytest${more}
    services:
${services}`;

test("services parse with their defaults: env as strings, no command, a 2-minute health timeout", () => {
  const config = parseConfig(
    hook(`      db:
        image: mariadb:11
        env: { MARIADB_ROOT_PASSWORD: root, PORT: 3306 }
        health: mysqladmin ping
      cache:
        image: redis:7
        command: [redis-server, --save, ""]
        health_timeout: 30s`),
  );
  assert.deepEqual(config.hooks[0]!.services, {
    db: {
      image: "mariadb:11",
      env: { MARIADB_ROOT_PASSWORD: "root", PORT: "3306" },
      health: "mysqladmin ping",
      health_timeout: 120,
    },
    cache: {
      image: "redis:7",
      env: {},
      command: ["redis-server", "--save", ""],
      health_timeout: 30,
    },
  });
  assert.deepEqual(parseConfig(hook("      {}")).hooks[0]!.services, {});
  assert.equal(
    parseConfig(hook("      {}").replace(/\n {4}services:\n.*$/, "")).hooks[0]!.services,
    undefined,
  );
});

test("a service name that is no DNS label, or a hostile one, is refused on its line", () => {
  for (const name of ["DB", "1db", "my_db", "db.example", '"a b"', "a".repeat(40), '"db\\u0000"']) {
    const found = problems(hook(`      ${name}: { image: mariadb:11 }`));
    assert.equal(found.length, 1, `${name}: ${found.join("\n")}`);
    assert.match(found[0]!, /^6:7 .*expected a service name of lowercase letters, digits and '-'/);
  }
});

test(`more than ${MAX_SERVICES} services are refused`, () => {
  const many = Array.from(
    { length: MAX_SERVICES + 1 },
    (_, i) => `      s${i}: { image: redis:7 }`,
  );
  assert.deepEqual(problems(hook(many.join("\n"))), [
    `6:7 hook "test": services: expected at most ${MAX_SERVICES} services; found ${MAX_SERVICES + 1}`,
  ]);
});

test("services with network: host are refused: the build reaches them on the job's network", () => {
  const found = problems(hook("      db: { image: mariadb:11 }", "\n    network: host"));
  assert.equal(found.length, 1);
  assert.match(
    found[0]!,
    /^5:14 hook "test": network: cannot be host in a hook with services: the build reaches them on the job's own network \(remove network: host\), found "host"$/,
  );
});

test("a service's unknown key, missing image, Kozmic's cache image or a command string is refused", () => {
  assert.match(
    problems(hook("      db: { image: mariadb:11, ports: [3306] }")).join("\n"),
    /^6:32 hook "test": services\.db: unknown key "ports"$/,
  );
  assert.match(problems(hook("      db: { env: { A: b } }")).join("\n"), /^6:11 .*image/m);
  assert.match(
    problems(hook("      db: { image: kozmic-cache/abc:1 }")).join("\n"),
    /^6:20 .*kozmic-cache/m,
  );
  assert.match(
    problems(hook("      db: { image: redis:7, command: redis-server --save '' }")).join("\n"),
    /^6:38 .*services\.db\.command: expected a list, found "redis-server --save ''"$/m,
  );
  assert.match(
    problems(hook("      db: { image: redis:7, env: { 1A: x } }")).join("\n"),
    /^6:\d+ .*expected a variable name/m,
  );
});
