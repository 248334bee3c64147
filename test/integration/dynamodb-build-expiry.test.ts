import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import { aBuild, aJob } from "../support/job-fixtures.js";
import { testServices } from "../support/services.js";

// Builds and jobs expire on DynamoDB as in the embedded store: a day of retention after the
// build's last job ended, never while one of its jobs is queued or running (the table's TTL
// then deletes them; DynamoDB Local keeps the attribute, which is what is checked here).

const services = testServices();
const client = new DynamoDBClient({ endpoint: services.dynamodbEndpoint, region: services.region });
after(() => client.destroy());

async function expiresAt(table: string, pk: string, sk: string): Promise<number | undefined> {
  const out = await client.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }),
  );
  const value = out.Item?.expiresAt?.N;
  return value === undefined ? undefined : Number(value);
}

describe("DynamoDB: builds and jobs expire after their last job ended", () => {
  it("leaves a build while a job runs, then expires it with every job a retention after the last ended", async () => {
    const table = `expiry-${randomUUID()}`;
    await ensureDynamoTable(client, table);
    const store = openDynamoStore({ table, client, logRetentionDays: 1 });
    after(() => store.close());
    const build = aBuild();
    const [test, lint] = [aJob(build, { hook: "test" }), aJob(build, { hook: "lint" })];
    await store.createBuild(build, [test, lint]);

    await store.transitionJob(test.id, ["queued"], { status: "running" });
    const testEnded = await store.transitionJob(test.id, ["running"], {
      status: "completed",
      conclusion: "success",
    });
    assert.equal(await expiresAt(table, `BUILD#${build.id}`, "BUILD"), undefined, "lint is queued");
    assert.equal(await expiresAt(table, `JOB#${test.id}`, "JOB"), undefined);

    const lintEnded = await store.transitionJob(lint.id, ["queued"], {
      status: "completed",
      conclusion: "failure",
    });
    const expected = Math.floor(Math.max(testEnded.updatedAt, lintEnded.updatedAt) / 1000) + 86_400;
    assert.equal(await expiresAt(table, `BUILD#${build.id}`, "BUILD"), expected);
    assert.equal(await expiresAt(table, `JOB#${test.id}`, "JOB"), expected);
    assert.equal(await expiresAt(table, `JOB#${lint.id}`, "JOB"), expected);

    // A later change of an ended job (its check run's annotations, say) rewrites the item
    // whole: the expiry is set again, from that change.
    const annotated = await store.updateJob(lint.id, ["completed"], { message: "annotated" });
    assert.equal(
      await expiresAt(table, `JOB#${lint.id}`, "JOB"),
      Math.floor(annotated.updatedAt / 1000) + 86_400,
    );
    assert.equal((await store.getBuild(build.id))?.id, build.id, "still readable until then");
  });
});
