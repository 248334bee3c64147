import type { CacheLeaseOperations } from "./embedded-cache-leases.js";
import type { DynamoTable, ItemKey } from "./dynamodb-table.js";

const leaseKey = (key: string): ItemKey => ({ pk: `CACHELEASE#${key}`, sk: "CACHELEASE" });
/** A lease item outlives its expiry by a day, then DynamoDB's TTL removes it. */
const KEEP_S = 86_400;

/** Fleet leases on installing a cache key, as conditional writes on the store's table. */
export function dynamoCacheLeaseOperations(table: DynamoTable): CacheLeaseOperations {
  return {
    async acquireCacheLease(key, owner, leaseMs, now = Date.now()) {
      const expiresAt = now + leaseMs;
      for (;;) {
        const written = await table.putIf("acquire cache lease", {
          Item: {
            ...leaseKey(key),
            leaseOwner: owner,
            leaseExpiresAt: expiresAt,
            expiresAt: Math.ceil(expiresAt / 1000) + KEEP_S,
          },
          ConditionExpression:
            "attribute_not_exists(pk) OR leaseOwner = :owner OR leaseExpiresAt <= :now",
          ExpressionAttributeValues: { ":owner": owner, ":now": now },
        });
        if (written) return { acquired: true, expiresAt };
        const held = await table.get("read cache lease", leaseKey(key), true);
        // Released between the write and the read: try again.
        if (!held) continue;
        const heldUntil = held.leaseExpiresAt as number;
        if (heldUntil <= now || held.leaseOwner === owner) continue;
        return { acquired: false, owner: held.leaseOwner as string, expiresAt: heldUntil };
      }
    },
    async releaseCacheLease(key, owner) {
      // An expired lease is a released one: written only while `owner` still holds it.
      await table.putIf("release cache lease", {
        Item: {
          ...leaseKey(key),
          leaseOwner: owner,
          leaseExpiresAt: 0,
          expiresAt: Math.ceil(Date.now() / 1000) + KEEP_S,
        },
        ConditionExpression: "leaseOwner = :owner",
        ExpressionAttributeValues: { ":owner": owner },
      });
    },
  };
}
