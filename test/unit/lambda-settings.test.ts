import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ENTRY_POINT_GROUPS, readSettings, type Env } from "../../src/settings/read-settings.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import { generateAppKey } from "../support/fake-github/app-key.js";

const key = generateAppKey();
const BASE = { APP_ID: "5", PRIVATE_KEY: key.privateKeyPem, WEBHOOK_SECRET: "s" };
const AWS = {
  KOZMIC_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/kozmic-jobs",
  KOZMIC_TABLE: "kozmic",
  AWS_REGION: "eu-west-1",
};

/** As src/lambda.ts reads them. */
const readAwsLambdaSettings = (env: Env) => {
  const s = readSettings(env, ["awsStorage", ...ENTRY_POINT_GROUPS.lambda]);
  return { ...s, storage: s.awsStorage };
};
const readAwsPlanLambdaSettings = (env: Env) => {
  const s = readSettings(env, ["awsStorage", ...ENTRY_POINT_GROUPS.planLambda]);
  return { ...s, storage: s.awsStorage };
};

describe("the Lambda entry points' settings", () => {
  for (const [name, read] of [
    ["handler", readAwsLambdaSettings],
    ["planHandler", readAwsPlanLambdaSettings],
  ] as const) {
    it(`${name}: SQS and DynamoDB from the AWS variables`, () => {
      const { storage } = read({ ...BASE, ...AWS });
      assert.equal(storage.queue.queueUrl, AWS.KOZMIC_QUEUE_URL);
      assert.equal(storage.planQueue.queueUrl, `${AWS.KOZMIC_QUEUE_URL}-plans`);
      assert.equal(storage.store.table, "kozmic");
    });

    it(`${name}: refuses the embedded queue and store, naming what to set with every other problem`, () => {
      assert.throws(
        () => read({ ...BASE, KOZMIC_TABLE: "", APP_ID: "" }),
        (error: Error) => {
          assert.ok(error instanceof SettingsError);
          assert.deepEqual(
            error.problems.map((p) => p.split(" ")[0]),
            ["KOZMIC_QUEUE_URL", "KOZMIC_TABLE", "APP_ID"],
          );
          assert.match(
            error.message,
            /KOZMIC_QUEUE_URL is required on AWS Lambda: the job queue's SQS URL/,
          );
          assert.match(
            error.message,
            /KOZMIC_TABLE is required on AWS Lambda: the DynamoDB table's name/,
          );
          return true;
        },
      );
      assert.throws(
        () => read({ ...BASE, ...AWS, KOZMIC_QUEUE_URL: " " }),
        (error: Error) => /^KOZMIC_QUEUE_URL is required on AWS Lambda/.test(error.message),
      );
    });
  }
});
