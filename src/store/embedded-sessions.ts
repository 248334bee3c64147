import type { SqliteDatabase } from "./open-database.js";
import type { SessionOperations } from "./port.js";

/** Revoked sign-in sessions in the embedded SQLite file, each kept until it would expire. */
export function embeddedSessionOperations(db: SqliteDatabase): SessionOperations {
  const q = {
    revoke: db.prepare(
      "INSERT OR REPLACE INTO revoked_sessions (id, expires_at) VALUES (?, max(?, coalesce((SELECT expires_at FROM revoked_sessions WHERE id = ?), 0)))",
    ),
    forgetExpired: db.prepare("DELETE FROM revoked_sessions WHERE expires_at <= ?"),
    isRevoked: db.prepare("SELECT 1 FROM revoked_sessions WHERE id = ? AND expires_at > ?").pluck(),
  };
  return {
    async revokeSession(sessionId, until, now = Date.now()) {
      // Revocations are rare (a logout each): the expired ones go on the next.
      q.forgetExpired.run(now);
      q.revoke.run(sessionId, until, sessionId);
    },
    async isSessionRevoked(sessionId, now = Date.now()) {
      return q.isRevoked.get(sessionId, now) !== undefined;
    },
  };
}
