import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { ensureDynamoTable } from "./dynamodb-store.js";

/** The attribute the store writes each item's expiry to (seconds since the epoch). */
export const TTL_ATTRIBUTE = "expiresAt";

/** What `kozmic setup` found or did for the table. */
export interface TableSetup {
  /** One line per change made, empty when the table was already in place. */
  changes: string[];
  /** A table that exists but cannot serve as the store's; left unchanged. */
  problem?: string;
}

/**
 * Makes sure the store's table exists with TTL on `expiresAt`. An existing table with
 * another key design, or TTL on another attribute, is reported and left alone.
 */
export async function setUpDynamoTable(client: DynamoDBClient, table: string): Promise<TableSetup> {
  const existing = await describeTable(client, table);
  if (!existing) {
    await ensureDynamoTable(client, table);
    return { changes: [`created DynamoDB table ${table} with TTL on ${TTL_ATTRIBUTE}`] };
  }
  const keys = keyDesignProblem(existing);
  if (keys) return { changes: [], problem: `DynamoDB table ${table} exists but ${keys}` };
  const ttl = await ttlAttribute(client, table);
  if (ttl === TTL_ATTRIBUTE) return { changes: [] };
  if (ttl !== undefined) {
    return {
      changes: [],
      problem:
        `DynamoDB table ${table} expires items by ${ttl}, but Kozmic writes ` +
        `expiry to ${TTL_ATTRIBUTE}: turn off its TTL and run kozmic setup again, or use ` +
        `another table`,
    };
  }
  // Creates nothing new: the table is there, its TTL step turns expiry on.
  await ensureDynamoTable(client, table);
  return { changes: [`turned on TTL on ${TTL_ATTRIBUTE} for DynamoDB table ${table}`] };
}

/** The attribute the table's TTL expires items by, when TTL is on (or being turned on). */
export async function ttlAttribute(client: DynamoDBClient, table: string) {
  const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: table })))
    .TimeToLiveDescription;
  const on = ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING";
  return on ? ttl?.AttributeName : undefined;
}

/** The table's description, or undefined when there is no such table. */
export async function describeTable(
  client: DynamoDBClient,
  table: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

/** Why the table's keys are not the store's (pk/sk, indexes gsi1 and gsi2), if they are not. */
export function keyDesignProblem(table: TableDescription): string | undefined {
  const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  if (keyOf(table.KeySchema) !== "pk:HASH,sk:RANGE") {
    return `its key is (${keyOf(table.KeySchema)}), not Kozmic's (pk:HASH,sk:RANGE): use another table name`;
  }
  const indexes = new Map(
    (table.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, keyOf(i.KeySchema)]),
  );
  for (const n of [1, 2]) {
    if (indexes.get(`gsi${n}`) !== `gsi${n}pk:HASH,gsi${n}sk:RANGE`) {
      return `it has no index gsi${n} on (gsi${n}pk, gsi${n}sk) as Kozmic's store needs: use another table name`;
    }
  }
  return undefined;
}
