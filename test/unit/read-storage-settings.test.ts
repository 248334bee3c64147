import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readSettings, type Env } from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";

const readStorageSettings = (env: Env) => readSettings(env, ["storage"]).storage;

describe("readStorageSettings", () => {
  it("defaults to the embedded queue and store under ./.kozmic", () => {
    assert.deepEqual(readStorageSettings({}), {
      queue: { kind: "embedded", dataDir: "./.kozmic", maxReceives: 5 },
      planQueue: { kind: "embedded", dataDir: "./.kozmic", maxReceives: PLAN_MAX_RECEIVES },
      store: { kind: "embedded", dataDir: "./.kozmic", logRetentionDays: 30 },
    });
  });

  it("picks SQS and DynamoDB from KOZMIC_QUEUE_URL and KOZMIC_TABLE", () => {
    const settings = readStorageSettings({
      KOZMIC_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123/kozmic-jobs",
      KOZMIC_TABLE: "kozmic",
      KOZMIC_MAX_RECEIVES: "3",
      KOZMIC_LOG_RETENTION_DAYS: "7",
      AWS_REGION: "eu-west-1",
    });
    assert.deepEqual(settings, {
      queue: {
        kind: "sqs",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123/kozmic-jobs",
        deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123/kozmic-jobs-dead-letters",
        maxReceives: 3,
        region: "eu-west-1",
        endpoint: undefined,
      },
      planQueue: {
        kind: "sqs",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123/kozmic-jobs-plans",
        deadLetterQueueUrl:
          "https://sqs.eu-west-1.amazonaws.com/123/kozmic-jobs-plans-dead-letters",
        maxReceives: PLAN_MAX_RECEIVES,
        region: "eu-west-1",
        endpoint: undefined,
      },
      store: {
        kind: "dynamodb",
        table: "kozmic",
        logRetentionDays: 7,
        region: "eu-west-1",
        endpoint: undefined,
      },
    });
  });

  it("takes an explicit planning queue URL, its dead letters beside it", () => {
    const { planQueue } = readStorageSettings({
      KOZMIC_QUEUE_URL: "http://127.0.0.1:9324/jobs",
      KOZMIC_PLAN_QUEUE_URL: "http://127.0.0.1:9324/plans",
      AWS_REGION: "us-east-1",
    });
    assert.equal(planQueue.kind === "sqs" && planQueue.queueUrl, "http://127.0.0.1:9324/plans");
    assert.equal(
      planQueue.kind === "sqs" && planQueue.deadLetterQueueUrl,
      "http://127.0.0.1:9324/plans-dead-letters",
    );
  });

  it("takes an explicit dead-letter queue URL", () => {
    const { queue } = readStorageSettings({
      KOZMIC_QUEUE_URL: "http://127.0.0.1:9324/jobs",
      KOZMIC_DEAD_LETTER_QUEUE_URL: "http://127.0.0.1:9324/jobs-dlq",
      AWS_REGION: "us-east-1",
    });
    assert.equal(
      queue.kind === "sqs" && queue.deadLetterQueueUrl,
      "http://127.0.0.1:9324/jobs-dlq",
    );
  });

  const broken: [string, NodeJS.ProcessEnv, RegExp][] = [
    ["table without region", { KOZMIC_TABLE: "kozmic" }, /KOZMIC_TABLE set but AWS_REGION/],
    [
      "queue without region",
      { KOZMIC_QUEUE_URL: "http://x/q" },
      /KOZMIC_QUEUE_URL set but AWS_REGION/,
    ],
    [
      "planning queue without job queue",
      { KOZMIC_PLAN_QUEUE_URL: "http://x/plans" },
      /KOZMIC_PLAN_QUEUE_URL set but KOZMIC_QUEUE_URL/,
    ],
    [
      "dead-letter queue without queue",
      { KOZMIC_DEAD_LETTER_QUEUE_URL: "http://x/dlq" },
      /KOZMIC_DEAD_LETTER_QUEUE_URL set but KOZMIC_QUEUE_URL/,
    ],
    [
      "queue URL not a URL",
      { KOZMIC_QUEUE_URL: "jobs", AWS_REGION: "x" },
      /KOZMIC_QUEUE_URL must be/,
    ],
    [
      "max receives zero",
      { KOZMIC_MAX_RECEIVES: "0" },
      /KOZMIC_MAX_RECEIVES must be a whole number/,
    ],
    [
      "retention not a number",
      { KOZMIC_LOG_RETENTION_DAYS: "a week" },
      /KOZMIC_LOG_RETENTION_DAYS/,
    ],
    ["table name with a slash", { KOZMIC_TABLE: "a/b", AWS_REGION: "x" }, /KOZMIC_TABLE must be/],
    ["endpoint not a URL", { AWS_ENDPOINT_URL_SQS: "localhost:9324" }, /AWS_ENDPOINT_URL_SQS/],
  ];
  for (const [what, env, message] of broken) {
    it(`refuses ${what}, naming the variable`, () => {
      assert.throws(
        () => readStorageSettings(env),
        (error: Error) => error instanceof SettingsError && message.test(error.message),
      );
    });
  }
});
