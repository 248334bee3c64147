import type { SqliteDatabase } from "./open-database.js";
import { ConflictError } from "../core/errors.js";
import type { RepositoryKeyRecord, SecretOperations, SecretRecord } from "./port.js";

/** Repository secrets (sealed) and data keys (wrapped) in the embedded SQLite file. */
export function embeddedSecretOperations(db: SqliteDatabase): SecretOperations {
  const q = {
    putSecret: db.prepare("INSERT OR REPLACE INTO secrets (repo_id, name, data) VALUES (?, ?, ?)"),
    deleteSecret: db.prepare("DELETE FROM secrets WHERE repo_id = ? AND name = ?"),
    listSecrets: db.prepare("SELECT data FROM secrets WHERE repo_id = ? ORDER BY name"),
    getKey: db.prepare("SELECT data FROM repository_keys WHERE repo_id = ?"),
    insertKey: db.prepare(
      "INSERT OR IGNORE INTO repository_keys (repo_id, wrapped_key, data) VALUES (?, ?, ?)",
    ),
    replaceKey: db.prepare(
      "UPDATE repository_keys SET wrapped_key = ?, data = ? WHERE repo_id = ? AND wrapped_key = ?",
    ),
    listKeys: db.prepare("SELECT data FROM repository_keys ORDER BY repo_id"),
  };
  return {
    async putSecret(record) {
      q.putSecret.run(record.repoId, record.name, JSON.stringify(record));
    },
    async deleteSecret(repoId, name) {
      return q.deleteSecret.run(repoId, name).changes > 0;
    },
    async listSecrets(repoId) {
      return (q.listSecrets.all(repoId) as { data: string }[]).map(
        (r) => JSON.parse(r.data) as SecretRecord,
      );
    },
    async getRepositoryKey(repoId) {
      const row = q.getKey.get(repoId) as { data: string } | undefined;
      return row ? (JSON.parse(row.data) as RepositoryKeyRecord) : undefined;
    },
    async putRepositoryKey(record, replacing) {
      const data = JSON.stringify(record);
      const changed =
        replacing === undefined
          ? q.insertKey.run(record.repoId, record.wrappedKey, data).changes
          : q.replaceKey.run(record.wrappedKey, data, record.repoId, replacing).changes;
      if (changed === 0) {
        throw new ConflictError(
          `repository ${record.repoId}: its data key changed meanwhile (another writer)`,
        );
      }
    },
    async listRepositoryKeys() {
      return (q.listKeys.all() as { data: string }[]).map(
        (r) => JSON.parse(r.data) as RepositoryKeyRecord,
      );
    },
  };
}
