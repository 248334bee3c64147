import { openDatabase, type SqliteDatabase } from "./open-database.js";
import type { CacheImageOperations, CacheImageRecord } from "./port.js";

/** The records in the embedded SQLite file, whoever opened it (the store, or the below). */
export function embeddedCacheImageOperations(db: SqliteDatabase): CacheImageOperations {
  const put = db.prepare("INSERT OR REPLACE INTO cache_images (image_id, data) VALUES (?, ?)");
  const get = db.prepare("SELECT data FROM cache_images WHERE image_id = ?");
  return {
    async recordCacheImage(record) {
      put.run(record.imageId, JSON.stringify(record));
    },
    async getCacheImage(imageId) {
      const row = get.get(imageId) as { data: string } | undefined;
      return row ? (JSON.parse(row.data) as CacheImageRecord) : undefined;
    },
  };
}

/**
 * The cache records alone, in the embedded store's file under `dataDir`: what `kozmic run`
 * needs, without the store's two dozen statements and its retention timer (10-15 ms of
 * every run's start); the file's schema is brought up to date by whichever opens it first
 * (embedded-schema.ts). A runner or `kozmic cache` opening the whole store reads and writes
 * the same records.
 */
export function openEmbeddedCacheRecords(
  dataDir: string,
): CacheImageOperations & { close(): Promise<void> } {
  const db = openDatabase(dataDir);
  return {
    ...embeddedCacheImageOperations(db),
    async close() {
      db.close();
    },
  };
}
