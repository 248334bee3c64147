import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export type SqliteDatabase = Database.Database;

/** Opens `kozmic.db` under `dataDir` in WAL mode, so an app and a runner process can share it. */
export function openDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "kozmic.db"), { timeout: 10_000 });
  // Before any table exists: a new file then keeps a free-page map, and the store's retention
  // sweep can give freed pages back (PRAGMA incremental_vacuum). An existing file keeps its
  // mode until a VACUUM (see embedded-retention.ts).
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  // FULL: an acknowledged write survives a killed process and a power cut alike.
  db.pragma("synchronous = FULL");
  // The WAL file shrinks back to this after a checkpoint that followed a large transaction.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return db;
}
