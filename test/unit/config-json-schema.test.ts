import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { renderConfigJsonSchema } from "../../src/core/config/render-config-json-schema.js";

const committed = new URL("../../schema/kozmic.schema.json", import.meta.url);

test("schema/kozmic.schema.json is up to date with the zod schema (run `npm run schema`)", async () => {
  assert.equal(await readFile(committed, "utf8"), renderConfigJsonSchema());
});

test("editors using the JSON Schema accept a valid file and flag mistakes", async () => {
  const schema = JSON.parse(await readFile(committed, "utf8")) as object;
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
  const valid = parse(
    "hooks:\n  - name: test\n    image: node:20\n    build: npm test\n    timeout: 15m\n    memory: 2g\n",
  ) as unknown;
  assert.equal(validate(valid), true, JSON.stringify(validate.errors));
  const typo = parse(
    "hooks:\n  - name: test\n    image: node:20\n    buidl: npm test\n    timeout: soon\n",
  ) as unknown;
  assert.equal(validate(typo), false);
  const problems = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
  assert.ok(problems.includes("/hooks/0 required"), problems.join("\n"));
  assert.ok(problems.includes("/hooks/0 additionalProperties"), problems.join("\n"));
  assert.ok(problems.includes("/hooks/0/timeout pattern"), problems.join("\n"));
  assert.match(JSON.stringify(schema), /Unique name of the hook/);
});
