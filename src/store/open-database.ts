import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export type SqliteDatabase = Database.Database;

/** Opens `kozmic.db` under `dataDir` in WAL mode, so an app and a runner process can share it. */
export function openDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "kozmic.db"), { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  // FULL: an acknowledged write survives a killed process and a power cut alike.
  db.pragma("synchronous = FULL");
  return db;
}
