import type { SqliteDatabase } from "./open-database.js";
import type { LeaseResult, Store } from "./port.js";

export type LeaseOperations = Pick<Store, "acquireLease" | "releaseLease">;

/**
 * Named leases (a cache key being installed, the schedule timer, a delivery being planned),
 * in the embedded SQLite file.
 */
export function embeddedLeaseOperations(db: SqliteDatabase): LeaseOperations {
  const q = {
    get: db.prepare("SELECT owner, expires_at FROM cache_leases WHERE key = ?"),
    put: db.prepare(
      "INSERT OR REPLACE INTO cache_leases (key, owner, expires_at) VALUES (?, ?, ?)",
    ),
    release: db.prepare("DELETE FROM cache_leases WHERE key = ? AND owner = ?"),
  };
  const acquire = db.transaction(
    (key: string, owner: string, leaseMs: number, now: number): LeaseResult => {
      const row = q.get.get(key) as { owner: string; expires_at: number } | undefined;
      if (row && row.owner !== owner && row.expires_at > now)
        return { acquired: false, owner: row.owner, expiresAt: row.expires_at };
      q.put.run(key, owner, now + leaseMs);
      return { acquired: true, expiresAt: now + leaseMs };
    },
  );
  return {
    async acquireLease(key, owner, leaseMs, now = Date.now()) {
      return acquire.immediate(key, owner, leaseMs, now);
    },
    async releaseLease(key, owner) {
      q.release.run(key, owner);
    },
  };
}
