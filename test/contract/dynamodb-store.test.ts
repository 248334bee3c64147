import { after } from "node:test";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import { testServices } from "../support/services.js";
import { defineStoreContract } from "./store-contract.js";

const services = testServices();
const client = new DynamoDBClient({ endpoint: services.dynamodbEndpoint, region: services.region });
after(() => client.destroy());

defineStoreContract("DynamoDB (DynamoDB Local)", async (options) => {
  const table = `contract-${randomUUID()}`;
  await ensureDynamoTable(client, table);
  return openDynamoStore({ table, client, ...options });
});
