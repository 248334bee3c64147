import type Database from "better-sqlite3";
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { PermanentError } from "../core/errors.js";
import type { JobStatus } from "../core/job-state.js";
import { buildExpiresAt, type JobSummary } from "./retention-rules.js";
import { StoreTooNewError } from "./store-rules.js";

type SqliteDatabase = Database.Database;

// The schema of kozmic.db (store, queues and cache records in one file) as ordered
// migrations. `PRAGMA user_version` is the last one applied; each runs in its own
// BEGIN IMMEDIATE transaction that first reads the version again, so processes opening the
// file together (serve and a runner) apply each migration once. Migrations are never
// edited once released: a change of schema is a new one at the end.

export interface Migration {
  /** 1, 2, 3, ...: the user_version the file has once it ran. */
  version: number;
  /** Why, for the log line and the docs. */
  what: string;
  up(db: SqliteDatabase): void;
}

/**
 * The retention a file made before builds expired gets for its builds. Migrations take no
 * settings (a queue or `kozmic run` may be the first to open the file): the default.
 */
const FILLED_BUILD_RETENTION_S = 30 * 86_400;

const columnsOf = (db: SqliteDatabase, table: string) =>
  db.prepare("SELECT name FROM pragma_table_info(?)").pluck().all(table) as string[];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: "the tables of every release before schema versions (each created when missing)",
    up(db) {
      // expires_at ahead of data in log_chunks: the sweep's index reads it without the
      // chunk's overflow pages (a file made before keeps its column order; queries name
      // the columns).
      db.exec(`
        CREATE TABLE IF NOT EXISTS builds (id TEXT PRIMARY KEY, repo_id INTEGER NOT NULL, sha TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL, expires_at INTEGER);
        CREATE INDEX IF NOT EXISTS builds_repo ON builds (repo_id, created_at);
        CREATE INDEX IF NOT EXISTS builds_commit ON builds (repo_id, sha);
        CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, build_id TEXT NOT NULL, data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS jobs_build ON jobs (build_id);
        CREATE TABLE IF NOT EXISTS log_chunks (job_id TEXT NOT NULL, seq INTEGER NOT NULL, expires_at INTEGER NOT NULL, data TEXT NOT NULL, at INTEGER, PRIMARY KEY (job_id, seq));
        CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS latest (key TEXT PRIMARY KEY, sha TEXT NOT NULL, job_id TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS installations (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS log_sections (job_id TEXT NOT NULL, name TEXT NOT NULL, start_seq INTEGER NOT NULL, expires_at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (job_id, start_seq, name));
        CREATE TABLE IF NOT EXISTS secrets (repo_id INTEGER NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (repo_id, name));
        CREATE TABLE IF NOT EXISTS repository_keys (repo_id INTEGER PRIMARY KEY, wrapped_key TEXT NOT NULL, data TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS revoked_sessions (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS cache_images (image_id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS cache_leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS queue_messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          queue TEXT NOT NULL,
          body TEXT NOT NULL,
          visible_at INTEGER NOT NULL,
          receive_count INTEGER NOT NULL DEFAULT 0,
          receipt TEXT,
          dead INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, dead, visible_at);
        CREATE INDEX IF NOT EXISTS queue_messages_receipt ON queue_messages (receipt);
      `);
    },
  },
  {
    version: 2,
    what: "log chunks record when their output was written (older chunks have no time)",
    up(db) {
      if (!columnsOf(db, "log_chunks").includes("at")) {
        db.exec("ALTER TABLE log_chunks ADD COLUMN at INTEGER");
      }
    },
  },
  {
    version: 3,
    what: "builds expire, and the retention sweep's indexes and turn-taking row",
    up(db) {
      if (!columnsOf(db, "builds").includes("expires_at")) {
        db.exec("ALTER TABLE builds ADD COLUMN expires_at INTEGER");
        fillBuildExpiry(db, FILLED_BUILD_RETENTION_S);
      }
      db.exec(`
        CREATE INDEX IF NOT EXISTS builds_expiry ON builds (expires_at) WHERE expires_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS log_chunks_expiry ON log_chunks (expires_at);
        CREATE INDEX IF NOT EXISTS deliveries_expiry ON deliveries (expires_at);
        CREATE INDEX IF NOT EXISTS latest_job ON latest (job_id);
        CREATE TABLE IF NOT EXISTS store_retention (id INTEGER PRIMARY KEY CHECK (id = 1), swept_at INTEGER NOT NULL);
      `);
    },
  },
  {
    version: 4,
    what: "schedule entries (`schedule:` of each repository's default branch)",
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS schedules (id TEXT PRIMARY KEY, repo_id INTEGER NOT NULL, last_tick INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS schedules_repo ON schedules (repo_id);
      `);
    },
  },
];

/** The schema version this code writes: a file at a higher one was written by a newer Kozmic. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

export interface MigrationReport {
  from: number;
  to: number;
  /** The copy of the file taken before the first migration, when it held anything. */
  backup?: string;
}

/**
 * Brings `db` (the file `file`) to SCHEMA_VERSION. A file that holds anything is first
 * copied with VACUUM INTO to `<file>.v<from>-<time>.bak` (the way back: docs/upgrading.md).
 * Throws StoreTooNewError for a file a newer Kozmic wrote.
 */
export function migrateDatabase(
  db: SqliteDatabase,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
  now: Date = new Date(),
): MigrationReport {
  const latest = migrations.at(-1)?.version ?? 0;
  const from = userVersion(db);
  if (from === latest) return { from, to: from };
  if (from > latest) throw tooNew(file, from, latest);
  const report: MigrationReport = { from, to: from };
  const backup = backUp(db, file, from, now);
  if (backup) report.backup = backup;
  const apply = db.transaction((migration: Migration) => {
    // Another process may have migrated while this one waited for the lock.
    const current = userVersion(db);
    if (current > latest) throw tooNew(file, current, latest);
    if (current >= migration.version) return;
    try {
      migration.up(db);
    } catch (error) {
      throw new PermanentError(
        `${file}: migration to schema version ${migration.version} (${migration.what}) failed, ` +
          `the file is left at version ${current}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    db.pragma(`user_version = ${migration.version}`);
  });
  for (const migration of migrations) apply.immediate(migration);
  report.to = userVersion(db);
  return report;
}

function userVersion(db: SqliteDatabase): number {
  return db.pragma("user_version", { simple: true }) as number;
}

function tooNew(file: string, version: number, latest: number): StoreTooNewError {
  return new StoreTooNewError(
    `${file} is at schema version ${version}, written by a newer Kozmic; this one reads up to version ${latest}. ` +
      "Run the newer Kozmic, or restore the backup taken before that upgrade (docs/upgrading.md#rollback)",
  );
}

/**
 * A consistent copy of a file that holds any table, before it is migrated; undefined for a
 * new file. Two processes migrating at once in the same second make one copy.
 */
function backUp(db: SqliteDatabase, file: string, from: number, now: Date): string | undefined {
  const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck();
  if ((tables.get() as number) === 0) return undefined;
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const backup = `${file}.v${from}-${stamp}.bak`;
  try {
    // Created first, this user's alone: the copy holds what the store holds.
    closeSync(openSync(backup, "wx", 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return backup;
    throw error;
  }
  try {
    db.prepare("VACUUM INTO ?").run(backup);
  } catch (error) {
    rmSync(backup, { force: true });
    throw error;
  }
  // Another process migrated between this one's reading the version and its copy: that one
  // kept the file as it was; this copy is of the migrated file.
  if (userVersionOf(backup) !== from) {
    rmSync(backup, { force: true });
    return undefined;
  }
  return backup;
}

/** PRAGMA user_version of a closed SQLite file: 4 bytes, big-endian, at offset 60. */
function userVersionOf(file: string): number {
  const header = Buffer.alloc(64);
  const fd = openSync(file, "r");
  try {
    readSync(fd, header, 0, 64, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(60);
}

/** The expiry of every build of a file made before builds expired, from its jobs. */
function fillBuildExpiry(db: SqliteDatabase, retentionS: number): void {
  const rows = db
    .prepare(
      `SELECT b.id, b.created_at AS createdAt, json_extract(j.data, '$.status') AS status,
         json_extract(j.data, '$.updatedAt') AS updatedAt
       FROM builds b LEFT JOIN jobs j ON j.build_id = b.id`,
    )
    .all() as { id: string; createdAt: number; status: JobStatus | null; updatedAt: number }[];
  const builds = new Map<string, { createdAt: number; jobs: JobSummary[] }>();
  for (const { id, createdAt, status, updatedAt } of rows) {
    const build = builds.get(id) ?? { createdAt, jobs: [] };
    if (status) build.jobs.push({ status, updatedAt });
    builds.set(id, build);
  }
  const set = db.prepare("UPDATE builds SET expires_at = ? WHERE id = ?");
  for (const [id, build] of builds) {
    set.run(buildExpiresAt(build.createdAt, build.jobs, retentionS), id);
  }
}
