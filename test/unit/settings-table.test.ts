import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import {
  ENTRY_POINT_GROUPS,
  readServeSettings,
  readSettings,
  type EntryPoint,
  type Env,
  type Settings,
} from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import {
  applyRow,
  combinedBadRows,
  settingsTable,
  type SettingsRow,
} from "../support/settings-table.js";

/** Each entry point's reader, its result seen group by group. */
const ENTRY_POINTS = Object.fromEntries(
  Object.entries(ENTRY_POINT_GROUPS).map(([entry, groups]) => [
    entry,
    entry === "serve" ? readServeSettings : (env: Env) => readSettings(env, groups),
  ]),
) as Record<EntryPoint, (env: Env) => Partial<Settings>>;

const table = settingsTable();
after(() => rmSync(table.dir, { recursive: true, force: true }));

const reads = (entry: EntryPoint, row: SettingsRow) =>
  row.groups.some((group) => (ENTRY_POINT_GROUPS[entry] as readonly string[]).includes(group));

function refusal(read: () => unknown): SettingsError {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof SettingsError, `not a SettingsError: ${String(error)}`);
    return error;
  }
  assert.fail("the settings were accepted");
}

describe("one table of settings, every entry point", () => {
  it("every row either refuses or accepts", () => {
    for (const row of table.rows) assert.ok(!row.refused !== !row.accepted, row.what);
  });

  for (const entry of Object.keys(ENTRY_POINTS) as EntryPoint[]) {
    describe(entry, () => {
      const read = ENTRY_POINTS[entry];

      it("accepts the good base", () => {
        read(table.base);
      });

      for (const row of table.rows) {
        const env = applyRow(table.base, row);
        if (!reads(entry, row)) {
          it(`ignores ${row.what} (not its settings)`, () => {
            read(env);
          });
        } else if (row.refused) {
          it(`refuses ${row.what}`, () => {
            const error = refusal(() => read(env));
            assert.match(error.message, row.refused!);
            for (const secret of table.secrets) {
              assert.ok(!error.message.includes(secret), "a secret in the message");
            }
          });
        } else {
          it(`accepts ${row.what}`, () => {
            row.accepted!(read(env));
          });
        }
      }

      it("names every bad variable at once", () => {
        const bad = combinedBadRows(table.rows, (row) => reads(entry, row));
        const env = bad.reduce((e, row) => applyRow(e, row), table.base);
        const error = refusal(() => read(env));
        for (const row of bad) assert.match(error.message, row.refused!, row.what);
        assert.equal(error.problems.length, bad.length, error.message);
      });
    });
  }
});

describe("kozmic serve reads the runner's settings only where it runs jobs", () => {
  const bad = applyRow(table.base, { env: { KOZMIC_RUNNER_CONCURRENCY: "0" } });

  it("on embedded defaults it runs jobs, so a bad runner variable stops it", () => {
    assert.throws(() => readServeSettings(bad), /KOZMIC_RUNNER_CONCURRENCY must be/);
  });

  it("with KOZMIC_EMBEDDED_RUNNER=false, or on SQS, it reads no runner settings", () => {
    const off = readServeSettings({ ...bad, KOZMIC_EMBEDDED_RUNNER: "false" });
    assert.equal(off.runner, undefined);
    const sqs = readServeSettings({
      ...bad,
      KOZMIC_QUEUE_URL: "http://127.0.0.1:9324/000000000000/jobs",
      AWS_REGION: "us-east-1",
    });
    assert.equal(sqs.server.embeddedRunner, false);
    assert.equal(sqs.runner, undefined);
  });

  it("on SQS with KOZMIC_EMBEDDED_RUNNER=true it runs jobs, with the server's public URL", () => {
    const on = readServeSettings({
      ...table.base,
      PORT: "8080",
      KOZMIC_QUEUE_URL: "http://127.0.0.1:9324/000000000000/jobs",
      AWS_REGION: "us-east-1",
      KOZMIC_EMBEDDED_RUNNER: "true",
    });
    assert.equal(on.runner?.publicUrl, "http://localhost:8080");
    assert.equal(on.runner?.publicUrl, on.server.publicUrl);
  });

  it("a bad server variable does not hide the runner's", () => {
    const error = refusal(() => readServeSettings({ ...bad, LOG_LEVEL: "loud" }));
    assert.match(error.message, /LOG_LEVEL must be/);
    assert.match(error.message, /KOZMIC_RUNNER_CONCURRENCY must be/);
  });
});
