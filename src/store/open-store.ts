import { dynamoStoreFrom } from "./dynamo-store-from.js";
import { openEmbeddedStore } from "./embedded-store.js";
import type { Store } from "./port.js";
import { readStorageSettings, type StorageSettings } from "../settings/index.js";

/** DynamoDB when KOZMIC_TABLE is set, else the embedded store under KOZMIC_DATA_DIR. */
export function openStore(env: NodeJS.ProcessEnv = process.env): Store {
  return storeFrom(readStorageSettings(env));
}

/** The store of settings already read. */
export function storeFrom({ store }: StorageSettings): Store {
  if (store.kind === "dynamodb") return dynamoStoreFrom(store);
  return openEmbeddedStore({ dataDir: store.dataDir, logRetentionDays: store.logRetentionDays });
}
