// A process that opens kozmic.db in `argv[2]` with migrations that count how often each ran,
// once `argv[3]` exists (so that several start together): test/integration/embedded-schema.test.ts.
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { migrateDatabase, type Migration } from "../../src/store/embedded-schema.js";

const [dir, go] = process.argv.slice(2) as [string, string];

/** Each migration adds a row: applied twice, it shows twice. */
export const COUNTED: Migration[] = [1, 2, 3].map((version) => ({
  version,
  what: `counted ${version}`,
  up(db) {
    db.exec("CREATE TABLE IF NOT EXISTS applied (version INTEGER NOT NULL, pid INTEGER NOT NULL)");
    db.prepare("INSERT INTO applied VALUES (?, ?)").run(version, process.pid);
  },
}));

if (dir && go) {
  while (!existsSync(go)) await sleep(5);
  const file = join(dir, "kozmic.db");
  const db = new Database(file, { timeout: 10_000 });
  db.pragma("journal_mode = WAL");
  const report = migrateDatabase(db, file, COUNTED);
  db.close();
  console.log(JSON.stringify(report));
}
