import Database from "better-sqlite3";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { migrateDatabase } from "./embedded-schema.js";

export type SqliteDatabase = Database.Database;

/** null: not found, undefined: not looked for yet. */
let addon: string | null | undefined;

/**
 * better-sqlite3's compiled addon, by its path. Without it, better-sqlite3 asks the
 * `bindings` package, which tries a dozen places first: 10-15 ms of every kozmic start.
 * Undefined (better-sqlite3's own lookup) where the addon is not where npm builds it.
 */
function addonPath(): string | undefined {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url).resolve(
        "better-sqlite3/build/Release/better_sqlite3.node",
      );
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}

/**
 * Opens `kozmic.db` under `dataDir` in WAL mode, so an app and a runner process can share
 * it, at the schema this code reads (embedded-schema.ts: migrated, after a backup, when
 * older; StoreTooNewError when a newer Kozmic wrote it). `log` hears of a migration.
 */
export function openDatabase(
  dataDir: string,
  log: (line: string) => void = (line) => console.error(line),
): SqliteDatabase {
  // The store holds private repositories' logs: this user's alone (`kozmic doctor` checks).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, "kozmic.db");
  // SQLite would create the file 0644, and gives -wal and -shm the mode of the file.
  closeSync(openSync(file, "a", 0o600));
  const db = new Database(file, { timeout: 10_000, nativeBinding: addonPath() });
  db.pragma("journal_mode = WAL");
  // FULL: an acknowledged write survives a killed process and a power cut alike.
  db.pragma("synchronous = FULL");
  // The WAL file shrinks back to this after a checkpoint that followed a large transaction.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  try {
    const report = migrateDatabase(db, file);
    if (report.backup) {
      log(
        `kozmic.db: schema version ${report.from} -> ${report.to}; the file as it was is in ${report.backup}`,
      );
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
