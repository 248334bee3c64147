import type { DynamoTable, ItemKey } from "./dynamodb-table.js";
import type { SessionOperations } from "./port.js";

const sessionKey = (sessionId: string): ItemKey => ({
  pk: `SESSION#${sessionId}`,
  sk: "REVOKED",
});

/**
 * Revoked sign-in sessions on the store's DynamoDB table. `until` is kept in ms and, as
 * `expiresAt` in seconds, lets the table's TTL delete the item once the session is over.
 */
export function dynamoSessionOperations(table: DynamoTable): SessionOperations {
  return {
    async revokeSession(sessionId, until) {
      await table.put("revoke session", {
        ...sessionKey(sessionId),
        until,
        expiresAt: Math.ceil(until / 1000),
      });
    },
    async isSessionRevoked(sessionId, now = Date.now()) {
      // Consistent: a logout on one instance holds on the next request to any other.
      const item = await table.get("read session revocation", sessionKey(sessionId), true);
      // TTL deletion lags by up to days: an expired item counts as absent.
      return item !== undefined && typeof item.until === "number" && item.until > now;
    },
  };
}
