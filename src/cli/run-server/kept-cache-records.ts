import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  openEmbeddedCacheRecords,
  type ClosableCacheRecords,
} from "../../store/embedded-cache-records.js";

interface Kept {
  records: ClosableCacheRecords;
  dev: number;
  ino: number;
}

/** More data directories than one person's runs use; the longest unused is closed first. */
const MOST_KEPT = 8;

/**
 * The run server's cache records, kept open from one run to the next: opening the SQLite
 * file (its pragmas) and closing it cost every run 4-5 ms. A data directory whose
 * `kozmic.db` is no longer the file that was opened (removed, or made again) is opened
 * again. A run's `close()` leaves the file open; closeAll() closes every one.
 */
export class KeptCacheRecords {
  private readonly kept = new Map<string, Kept>();

  open(dataDir: string): ClosableCacheRecords {
    const dir = resolve(dataDir);
    const file = join(dir, "kozmic.db");
    const now = identity(file);
    const kept = this.kept.get(dir);
    this.kept.delete(dir);
    if (kept && now && kept.dev === now.dev && kept.ino === now.ino) {
      this.kept.set(dir, kept); // now the most recently used
    } else {
      if (kept) void kept.records.close();
      const records = openEmbeddedCacheRecords(dir);
      const opened = identity(file);
      if (!opened) return records; // not keepable: this run closes it
      this.kept.set(dir, { records, ...opened });
      for (const [oldest, { records: old }] of this.kept) {
        if (this.kept.size <= MOST_KEPT) break;
        this.kept.delete(oldest);
        void old.close();
      }
    }
    const { records } = this.kept.get(dir)!;
    return { ...records, close: async () => {} };
  }

  async closeAll(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map((k) => k.records.close()));
  }
}

function identity(file: string): { dev: number; ino: number } | undefined {
  try {
    const { dev, ino } = statSync(file);
    return { dev, ino };
  } catch {
    return undefined;
  }
}
