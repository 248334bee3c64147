import { GetItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoSettings } from "../settings/storage-settings.js";
import {
  describeTable,
  keyDesignProblem,
  TTL_ATTRIBUTE,
  ttlAttribute,
} from "../store/set-up-dynamo-table.js";
import { ok, problem, type CheckResult } from "./checks.js";

const PROBE_KEY = { pk: { S: "kozmic-doctor#probe" }, sk: { S: "kozmic-doctor#probe" } };

/**
 * The table (KOZMIC_TABLE) exists with the store's keys and TTL, and this host may read and
 * write it. Nothing is written: a GetItem of a key the store never uses proves reading, and
 * a PutItem whose condition can never hold proves writing (DynamoDB checks permission
 * before the condition, and a failed condition changes nothing).
 */
export async function checkDynamoTable(
  client: DynamoDBClient,
  settings: DynamoSettings,
): Promise<CheckResult> {
  const table = settings.table;
  const fail = (error: unknown, action: string) => {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException") {
      return problem(
        "table",
        `KOZMIC_TABLE: no DynamoDB table ${table} in ${settings.region}: run kozmic setup to ` +
          "create it, or set KOZMIC_TABLE to the table's name",
      );
    }
    if (name === "AccessDeniedException") {
      return problem(
        "table",
        `KOZMIC_TABLE: this host's AWS identity may not ${action} on ${table}: allow it ` +
          "dynamodb:GetItem, PutItem, UpdateItem, DeleteItem, Query and TransactWriteItems " +
          "on the table and its indexes",
      );
    }
    return problem(
      "table",
      `cannot reach DynamoDB for table ${table} (${name}: ${(error as Error).message}): check ` +
        "AWS_REGION, the AWS credentials and AWS_ENDPOINT_URL_DYNAMODB",
    );
  };
  try {
    await client.send(new GetItemCommand({ TableName: table, Key: PROBE_KEY }));
  } catch (error) {
    return fail(error, "dynamodb:GetItem");
  }
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: PROBE_KEY,
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(pk)",
      }),
    );
    return problem("table", `a PutItem on ${table} with a condition that cannot hold was written`);
  } catch (error) {
    if ((error as Error).name !== "ConditionalCheckFailedException") {
      return fail(error, "dynamodb:PutItem");
    }
  }
  // Runner roles need not describe the table: without that permission, keys and TTL go unchecked.
  let design: string | undefined;
  let ttl: string | undefined;
  try {
    const description = await describeTable(client, table);
    design = description && keyDesignProblem(description);
    if ((await ttlAttribute(client, table)) !== TTL_ATTRIBUTE) {
      ttl = `its TTL is not on ${TTL_ATTRIBUTE}, so logs never expire: run kozmic setup`;
    }
  } catch (error) {
    if ((error as Error).name !== "AccessDeniedException") return fail(error, "describe it");
    return ok(
      "table",
      `${table} can be read and written (keys and TTL not checked: no permission to describe it)`,
    );
  }
  if (design) return problem("table", `${table} ${design}`);
  if (ttl) return problem("table", `${table}: ${ttl}`);
  return ok(
    "table",
    `${table} can be read and written, with Kozmic's keys and TTL on ${TTL_ATTRIBUTE}`,
  );
}
