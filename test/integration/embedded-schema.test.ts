import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedCacheRecords } from "../../src/store/embedded-cache-records.js";
import {
  MIGRATIONS,
  migrateDatabase,
  SCHEMA_VERSION,
  type Migration,
} from "../../src/store/embedded-schema.js";
import { StoreTooNewError } from "../../src/store/store-rules.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { openDatabase } from "../../src/store/open-database.js";
import { generateAppKey } from "../support/fake-github/index.js";
import { aBuild, aJob } from "../support/job-fixtures.js";
import { kozmicArgv } from "../support/kozmic-cli.js";

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const aDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-schema-"));
  dirs.push(dir);
  return dir;
};
const userVersion = (dir: string, name = "kozmic.db") => {
  const db = new Database(join(dir, name), { readonly: true });
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } finally {
    db.close();
  }
};
const backupsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".bak"));

describe("kozmic.db's schema version and migrations", () => {
  it("a new file is made at the current version, with no backup", async () => {
    const dir = aDataDir();
    const lines: string[] = [];
    openDatabase(dir, (line) => lines.push(line)).close();
    assert.equal(userVersion(dir), SCHEMA_VERSION);
    assert.deepEqual(backupsIn(dir), []);
    assert.deepEqual(lines, []);
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
      "versions 1, 2, 3, ... in order",
    );
  });

  it("a file written before schema versions is migrated once, after a backup that holds it", async () => {
    const dir = aDataDir();
    const build = aBuild();
    const job = aJob(build, { status: "completed" });
    // As every release before schema versions left it: the tables, user_version 0.
    const legacy = new Database(join(dir, "kozmic.db"));
    legacy.pragma("journal_mode = WAL");
    for (const m of MIGRATIONS) m.up(legacy);
    legacy
      .prepare("INSERT INTO builds (id, repo_id, sha, created_at, data) VALUES (?, ?, ?, ?, ?)")
      .run(build.id, build.repoId, build.sha, build.createdAt, JSON.stringify(build));
    legacy.prepare("INSERT INTO jobs VALUES (?, ?, ?)").run(job.id, build.id, JSON.stringify(job));
    assert.equal(legacy.pragma("user_version", { simple: true }), 0);
    legacy.close();

    const lines: string[] = [];
    openDatabase(dir, (line) => lines.push(line)).close();
    assert.equal(userVersion(dir), SCHEMA_VERSION);
    const [backup, ...more] = backupsIn(dir);
    assert.deepEqual(more, [], "one backup");
    assert.match(backup!, /^kozmic\.db\.v0-.*\.bak$/);
    assert.equal(statSync(join(dir, backup!)).mode & 0o777, 0o600, "this user's alone");
    assert.deepEqual(lines, [
      `kozmic.db: schema version 0 -> ${SCHEMA_VERSION}; the file as it was is in ${join(dir, backup!)}`,
    ]);
    const copy = new Database(join(dir, backup!), { readonly: true });
    assert.equal(copy.pragma("user_version", { simple: true }), 0);
    assert.equal(
      JSON.parse(copy.prepare("SELECT data FROM jobs WHERE id = ?").pluck().get(job.id) as string)
        .status,
      "completed",
    );
    copy.close();

    const store = openEmbeddedStore({ dataDir: dir, retention: false });
    try {
      assert.equal((await store.getJob(job.id))?.status, "completed");
    } finally {
      await store.close();
    }
    assert.equal(backupsIn(dir).length, 1, "opening again neither migrates nor copies");
  });

  it("a file a newer Kozmic wrote is refused by the store, the queue and the cache records, untouched", () => {
    const dir = aDataDir();
    openDatabase(dir).close();
    const newer = new Database(join(dir, "kozmic.db"));
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.exec("CREATE TABLE from_the_future (x)");
    newer.close();
    const file = join(dir, "kozmic.db");
    const message = `${file} is at schema version ${SCHEMA_VERSION + 1}, written by a newer Kozmic; this one reads up to version ${SCHEMA_VERSION}. Run the newer Kozmic, or restore the backup taken before that upgrade (docs/upgrading.md#rollback)`;
    assert.throws(() => openEmbeddedStore({ dataDir: dir, retention: false }), {
      name: "StoreTooNewError",
      message,
    });
    assert.throws(() => openEmbeddedQueue({ dataDir: dir }), StoreTooNewError);
    assert.throws(() => openEmbeddedCacheRecords(dir), StoreTooNewError);
    assert.equal(userVersion(dir), SCHEMA_VERSION + 1, "no silent downgrade");
    assert.deepEqual(backupsIn(dir), []);
  });

  it("kozmic runner on a file a newer Kozmic wrote stops at start: exit 2, one line naming both versions", () => {
    const dir = aDataDir();
    openDatabase(dir).close();
    const newer = new Database(join(dir, "kozmic.db"));
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const result = spawnSync(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "31",
        PRIVATE_KEY: generateAppKey().privateKeyPem,
        KOZMIC_DATA_DIR: dir,
      },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.deepEqual(result.stderr.trim().split("\n"), [
      `kozmic runner: ${join(dir, "kozmic.db")} is at schema version ${SCHEMA_VERSION + 1}, written by a newer Kozmic; this one reads up to version ${SCHEMA_VERSION}. Run the newer Kozmic, or restore the backup taken before that upgrade (docs/upgrading.md#rollback)`,
    ]);
    assert.equal(userVersion(dir), SCHEMA_VERSION + 1);
  });

  it("a migration that fails leaves the file at the version before it, and says why", () => {
    const dir = aDataDir();
    const file = join(dir, "kozmic.db");
    const db = new Database(file);
    const broken: Migration[] = [
      { version: 1, what: "one table", up: (d) => d.exec("CREATE TABLE one (x)") },
      {
        version: 2,
        what: "half done, then fails",
        up(d) {
          d.exec("CREATE TABLE two (x)");
          d.exec("INSERT INTO nowhere VALUES (1)");
        },
      },
    ];
    try {
      assert.throws(() => migrateDatabase(db, file, broken), {
        name: "PermanentError",
        message: `${file}: migration to schema version 2 (half done, then fails) failed, the file is left at version 1: no such table: nowhere`,
      });
      assert.equal(db.pragma("user_version", { simple: true }), 1);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck();
      assert.deepEqual(tables.all(), ["one"], "the failed migration's table is rolled back");
      assert.equal(db.inTransaction, false);
    } finally {
      db.close();
    }
  });

  it("processes opening an old file together apply each migration once", async () => {
    const dir = aDataDir();
    const file = join(dir, "kozmic.db");
    const seed = new Database(file);
    seed.pragma("journal_mode = WAL");
    seed.exec("CREATE TABLE seed (x)");
    seed.close();
    const go = join(dir, "go");
    const child = new URL("../support/migrate-child.ts", import.meta.url).pathname;
    const runs = [1, 2, 3, 4].map(
      () =>
        new Promise<string>((resolve, reject) => {
          const p = spawn(process.execPath, ["--import", "tsx", child, dir, go], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          p.stdout.on("data", (d: Buffer) => (out += d.toString()));
          p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
        }),
    );
    writeFileSync(go, "");
    const reports = (await Promise.all(runs)).map((out) => JSON.parse(out) as { to: number });
    assert.deepEqual(
      reports.map((r) => r.to),
      [3, 3, 3, 3],
    );
    const db = new Database(file, { readonly: true });
    try {
      const applied = db.prepare("SELECT version FROM applied ORDER BY version").pluck().all();
      assert.deepEqual(applied, [1, 2, 3], "each once, whichever process applied it");
      assert.equal(db.pragma("user_version", { simple: true }), 3);
    } finally {
      db.close();
    }
    const backups = backupsIn(dir);
    assert.ok(backups.length >= 1, "the file as it was is kept");
    for (const backup of backups) {
      assert.equal(userVersion(dir, backup), 0, `${backup} is of the file as it was`);
    }
  });
});
