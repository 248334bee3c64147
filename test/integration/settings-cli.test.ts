import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { ENTRY_POINT_GROUPS } from "../../src/settings/read-settings.js";
import { applyRow, combinedBadRows, settingsTable } from "../support/settings-table.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { startAndStop } from "../support/start-command.js";

const table = settingsTable();
after(() => rmSync(table.dir, { recursive: true, force: true }));

/** The commands, and the arguments that reach their settings. */
const COMMANDS = {
  serve: ["serve"],
  runner: ["runner"],
  run: ["run", "/nonexistent/repository"],
  cache: ["cache", "ls"],
} as const;

describe("the commands read the settings table's bad rows (one process each)", () => {
  for (const [command, args] of Object.entries(COMMANDS) as [
    keyof typeof COMMANDS,
    readonly string[],
  ][]) {
    it(`kozmic ${command}: exit 2, one line per bad variable, no secret`, () => {
      const groups: readonly string[] = ENTRY_POINT_GROUPS[command];
      const bad = combinedBadRows(table.rows, (row) => row.groups.some((g) => groups.includes(g)));
      const env = bad.reduce((e, row) => applyRow(e, row), table.base);
      const result = spawnSync(process.execPath, kozmicArgv(args), {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(result.status, 2, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, bad.length, result.stderr);
      for (const line of lines) assert.ok(line.startsWith(`kozmic ${command}: `), line);
      for (const row of bad) assert.match(result.stderr, row.refused!, row.what);
      for (const secret of table.secrets) assert.ok(!result.stderr.includes(secret));
    });
  }
});

describe("the commands start with the accepted forms of the key", () => {
  it("kozmic runner takes a base64 PRIVATE_KEY", async () => {
    const { code, output } = await startAndStop(
      ["runner"],
      {
        ...table.base,
        PRIVATE_KEY: Buffer.from(table.key).toString("base64"),
        KOZMIC_RUNNER_NAME: `settings-${process.pid}`,
        KOZMIC_RUNNER_CONCURRENCY: "1",
      },
      /receiving jobs/,
    );
    assert.equal(code, 0, output);
  });

  it("kozmic serve takes a PEM with \\n escapes", async () => {
    const { code, output } = await startAndStop(
      ["serve"],
      {
        ...table.base,
        PRIVATE_KEY: table.key.replace(/\n/g, "\\n"),
        PORT: "0",
        HOST: "127.0.0.1",
        KOZMIC_EMBEDDED_RUNNER: "false",
      },
      /listening on/,
    );
    assert.equal(code, 0, output);
  });
});
