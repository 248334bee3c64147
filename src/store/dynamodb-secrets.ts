import { ConflictError } from "../core/errors.js";
import { recordItem, recordOf } from "./dynamodb-items.js";
import type { DynamoTable, ItemKey } from "./dynamodb-table.js";
import type { RepositoryKeyRecord, SecretOperations, SecretRecord } from "./port.js";

// A repository's secrets and its data key share one partition; every data key is also on
// gsi1 under one partition key, which rotation reads whole.
const partition = (repoId: number) => `SECRETS#${repoId}`;
const secretKey = (repoId: number, name: string): ItemKey => ({
  pk: partition(repoId),
  sk: `SECRET#${name}`,
});
const dataKeyKey = (repoId: number): ItemKey => ({ pk: partition(repoId), sk: "DATAKEY" });
const DATA_KEYS = "DATAKEYS";

/** Repository secrets (sealed) and data keys (wrapped) on the store's DynamoDB table. */
export function dynamoSecretOperations(table: DynamoTable): SecretOperations {
  return {
    async putSecret(record) {
      await table.put("put secret", recordItem(secretKey(record.repoId, record.name), record));
    },
    async deleteSecret(repoId, name) {
      return table.delete("delete secret", secretKey(repoId, name));
    },
    async listSecrets(repoId) {
      const items = await table.queryAll("list secrets", {
        KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues: { ":p": partition(repoId), ":s": "SECRET#" },
        ConsistentRead: true,
      });
      return items.map((item) => recordOf<SecretRecord>(item));
    },
    async getRepositoryKey(repoId) {
      const item = await table.get("get repository key", dataKeyKey(repoId), true);
      return item ? recordOf<RepositoryKeyRecord>(item) : undefined;
    },
    async putRepositoryKey(record, replacing) {
      const out = await table.putIf("put repository key", {
        Item: {
          ...recordItem(dataKeyKey(record.repoId), record),
          wrappedKey: record.wrappedKey,
          gsi1pk: DATA_KEYS,
          gsi1sk: `DATAKEY#${String(record.repoId).padStart(20, "0")}`,
        },
        ...(replacing === undefined
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : {
              ConditionExpression: "wrappedKey = :old",
              ExpressionAttributeValues: { ":old": replacing },
            }),
      });
      if (!out) {
        throw new ConflictError(
          `repository ${record.repoId}: its data key changed meanwhile (another writer)`,
        );
      }
    },
    async listRepositoryKeys() {
      const items = await table.queryAll("list repository keys", {
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": DATA_KEYS },
      });
      return items.map((item) => recordOf<RepositoryKeyRecord>(item));
    },
  };
}
