import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoSettings } from "../settings/storage-settings.js";
import { openDynamoStore } from "./dynamodb-store.js";
import type { Store } from "./port.js";

/**
 * The DynamoDB store of settings already read, with a client of its own. Apart from
 * open-store.ts so that the Lambda bundle, which never opens the embedded store, leaves
 * SQLite out.
 */
export function dynamoStoreFrom(settings: DynamoSettings): Store {
  return openDynamoStore({
    client: new DynamoDBClient({ region: settings.region, endpoint: settings.endpoint }),
    ownsClient: true,
    table: settings.table,
    logRetentionDays: settings.logRetentionDays,
  });
}
