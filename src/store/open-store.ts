import { dynamoStoreFrom } from "./dynamodb-store.js";
import { openEmbeddedStore } from "./embedded-store.js";
import type { Store } from "./port.js";
import type { StorageSettings } from "../settings/storage-settings.js";

/** DynamoDB when KOZMIC_TABLE is set, else the embedded store under KOZMIC_DATA_DIR. */
export function storeFrom({ store }: StorageSettings): Store {
  if (store.kind === "dynamodb") return dynamoStoreFrom(store);
  return openEmbeddedStore({ dataDir: store.dataDir, logRetentionDays: store.logRetentionDays });
}
