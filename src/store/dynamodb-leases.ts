import type { LeaseOperations } from "./embedded-leases.js";
import type { DynamoTable, ItemKey } from "./dynamodb-table.js";

// "CACHELEASE" from when the fleet cache was the one user: tables in use hold such items.
const leaseKey = (key: string): ItemKey => ({ pk: `CACHELEASE#${key}`, sk: "CACHELEASE" });
/** A lease item outlives its expiry by a day, then DynamoDB's TTL removes it. */
const KEEP_S = 86_400;

/**
 * Named leases (a cache key being installed, the schedule timer, a delivery being planned),
 * as conditional writes on the store's table.
 */
export function dynamoLeaseOperations(table: DynamoTable): LeaseOperations {
  return {
    async acquireLease(key, owner, leaseMs, now = Date.now()) {
      const expiresAt = now + leaseMs;
      for (;;) {
        const written = await table.putIf("acquire lease", {
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
        const held = await table.get("read lease", leaseKey(key), true);
        // Released between the write and the read: try again.
        if (!held) continue;
        const heldUntil = held.leaseExpiresAt as number;
        if (heldUntil <= now || held.leaseOwner === owner) continue;
        return { acquired: false, owner: held.leaseOwner as string, expiresAt: heldUntil };
      }
    },
    async releaseLease(key, owner) {
      // An expired lease is a released one: written only while `owner` still holds it.
      await table.putIf("release lease", {
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
