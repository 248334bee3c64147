import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { jobQueueFrom } from "../../src/queue/open-queue.js";
import { readSettings, type Env } from "../../src/settings/read-settings.js";
import { storeFrom } from "../../src/store/open-store.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ensureDynamoTable } from "../../src/store/dynamodb-store.js";
import { testServices } from "../support/services.js";
import { aBuild, aJob, aJobMessage } from "../support/job-fixtures.js";

const openQueue = (env: Env) => jobQueueFrom(readSettings(env, ["storage"]).storage);
const openStore = (env: Env) => storeFrom(readSettings(env, ["storage"]).storage);

const services = testServices();
const dir = mkdtempSync(join(tmpdir(), "kozmic-open-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("openQueue and openStore", () => {
  it("open the embedded adapters in one kozmic.db under KOZMIC_DATA_DIR", async () => {
    const env = { KOZMIC_DATA_DIR: join(dir, "data") };
    const queue = openQueue(env);
    const store = openStore(env);
    try {
      const message = aJobMessage();
      await queue.send(message);
      const [got] = await queue.receive({ waitSeconds: 1 });
      assert.equal(got?.body.jobId, message.jobId);
      const build = aBuild();
      await store.createBuild(build, [aJob(build)]);
      assert.deepEqual(await store.getBuild(build.id), build);
      assert.ok(existsSync(join(dir, "data", "kozmic.db")));
    } finally {
      await queue.close();
      await store.close();
    }
  });

  it("open SQS and DynamoDB from KOZMIC_QUEUE_URL and KOZMIC_TABLE", async () => {
    const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
    const dynamo = new DynamoDBClient({
      endpoint: services.dynamodbEndpoint,
      region: services.region,
    });
    const urls = await ensureSqsQueues(sqs, uniqueQueueName("open"), 5);
    const table = `open-${randomUUID()}`;
    await ensureDynamoTable(dynamo, table);
    sqs.destroy();
    dynamo.destroy();
    const env = {
      KOZMIC_QUEUE_URL: urls.queueUrl,
      KOZMIC_TABLE: table,
      AWS_REGION: services.region,
      AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
    };
    const queue = openQueue(env);
    const store = openStore(env);
    try {
      await queue.sendRaw("garbage");
      assert.deepEqual(await queue.receive({ waitSeconds: 1 }), []);
      const dead = await queue.receiveDeadLetters();
      assert.equal(dead[0]?.rawBody, "garbage", "derived dead-letter queue URL works");
      const build = aBuild();
      await store.createBuild(build, [aJob(build)]);
      assert.deepEqual(await store.getBuild(build.id), build);
    } finally {
      await queue.close();
      await store.close();
    }
  });
});
