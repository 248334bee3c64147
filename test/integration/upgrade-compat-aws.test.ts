import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ITEM_FORMAT } from "../../src/store/dynamodb-items.js";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import { testServices } from "../support/services.js";
import {
  assertStoreKeepsEverything,
  restoreDataDir,
  savedSettings,
  upgradeFixtures,
} from "../support/upgrade-fixtures.js";

// The AWS side of each upgrade fixture: the DynamoDB items and queue messages a previous
// release wrote, read by this code (DynamoDB Local, ElasticMQ).

const services = testServices();
const dynamo = new DynamoDBClient({ endpoint: services.dynamodbEndpoint, region: services.region });
const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
const tables: string[] = [];
const dirs: string[] = [];
after(async () => {
  for (const table of tables) await dynamo.send(new DeleteTableCommand({ TableName: table }));
  dynamo.destroy();
  sqs.destroy();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

for (const fixture of upgradeFixtures()) {
  describe(`the DynamoDB table and SQS messages of ${fixture.ref}, read by this code`, () => {
    it("keeps every build, job, log, section, secret and cache record", async () => {
      const table = `upgrade-${randomUUID()}`;
      tables.push(table);
      await ensureDynamoTable(dynamo, table);
      const items = JSON.parse(
        readFileSync(join(fixture.dir, "dynamodb-items.json"), "utf8"),
      ) as Record<string, unknown>[];
      const documents = DynamoDBDocumentClient.from(dynamo);
      for (const item of items)
        await documents.send(new PutCommand({ TableName: table, Item: item }));
      // The secrets key is the one set-up saved; the rest of the settings do not matter here.
      const dataDir = restoreDataDir(fixture);
      dirs.push(dataDir);
      const store = openDynamoStore({ table, client: dynamo });
      try {
        await assertStoreKeepsEverything(fixture, store, savedSettings(dataDir).settings);
      } finally {
        await store.close();
      }
    });

    it("refuses an item a newer Kozmic wrote in a later format, naming both formats", async () => {
      const table = `upgrade-${randomUUID()}`;
      tables.push(table);
      await ensureDynamoTable(dynamo, table);
      const items = JSON.parse(
        readFileSync(join(fixture.dir, "dynamodb-items.json"), "utf8"),
      ) as Record<string, unknown>[];
      const build = items.find((item) => item.pk === `BUILD#${fixture.finished.buildId}`)!;
      await DynamoDBDocumentClient.from(dynamo).send(
        new PutCommand({ TableName: table, Item: { ...build, fmt: ITEM_FORMAT + 1 } }),
      );
      const store = openDynamoStore({ table, client: dynamo });
      try {
        await assert.rejects(store.getBuild(fixture.finished.buildId), {
          name: "StoreTooNewError",
          message: new RegExp(
            `BUILD#${fixture.finished.buildId} BUILD is of format ${ITEM_FORMAT + 1}, written by a newer Kozmic; this one reads up to format ${ITEM_FORMAT}`,
          ),
        });
      } finally {
        await store.close();
      }
    });

    it("accepts the job and planning messages it sent", async () => {
      const lines: string[] = [];
      const log = (line: string) => lines.push(line);
      const jobs = openSqsQueue({
        ...(await ensureSqsQueues(sqs, uniqueQueueName("upgrade"), 5)),
        client: sqs,
        log,
      });
      const plans = openSqsQueue({
        ...(await ensureSqsQueues(sqs, uniqueQueueName("upgrade-plans"), 5)),
        client: sqs,
        log,
        kind: PLAN_MESSAGES,
      });
      const jobBody = readFileSync(join(fixture.dir, "job-message.json"), "utf8").trim();
      const planBody = readFileSync(join(fixture.dir, "plan-message.json"), "utf8").trim();
      await jobs.sendRaw(jobBody);
      await plans.sendRaw(planBody);
      const [job] = await jobs.receive({ maxMessages: 10, waitSeconds: 5 });
      const [plan] = await plans.receive({ maxMessages: 10, waitSeconds: 5 });
      assert.deepEqual(job?.body, JSON.parse(jobBody));
      assert.deepEqual(plan?.body, JSON.parse(planBody));
      assert.deepEqual(lines, [], "nothing dead-lettered");
    });
  });
}
