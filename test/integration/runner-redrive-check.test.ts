import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { after, before, describe, it } from "node:test";
import { InfrastructureError } from "../../src/core/errors.js";
import { checkJobQueueRedrive } from "../../src/queue/check-job-queue-redrive.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { SettingsError } from "../../src/settings/settings-error.js";
import type { SqsSettings } from "../../src/settings/storage-settings.js";
import { testServices } from "../support/services.js";
import { settingsTable } from "../support/settings-table.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { startAndStop } from "../support/start-command.js";

const services = testServices();

describe("the runner checks KOZMIC_MAX_RECEIVES against the SQS queue's redrive policy", () => {
  let sqs: SQSClient;
  /** A job queue (and its planning queue) whose redrive policy moves a message after 5 receives. */
  let queueUrl: string;
  const table = settingsTable();
  const queue = (url: string, maxReceives: number): SqsSettings => ({
    kind: "sqs",
    queueUrl: url,
    deadLetterQueueUrl: `${url}-dead-letters`,
    maxReceives,
    region: services.region,
    endpoint: services.sqsEndpoint,
  });
  /** A command's environment on that queue, an embedded store and the table's good base. */
  const onSqs = (more: Record<string, string>) => ({
    ...table.base,
    KOZMIC_QUEUE_URL: queueUrl,
    AWS_REGION: services.region,
    AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "test",
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
    ...more,
  });
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, kozmicArgv(args), {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: "utf8",
      timeout: 60_000,
    });

  before(async () => {
    sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
    const name = uniqueQueueName("redrive");
    ({ queueUrl } = await ensureSqsQueues(sqs, name, 5));
    await ensureSqsQueues(sqs, `${name}-plans`, 40);
  });
  after(() => {
    sqs.destroy();
    rmSync(table.dir, { recursive: true, force: true });
  });

  it("passes when they are equal, and for the embedded queue", async () => {
    await checkJobQueueRedrive(queue(queueUrl, 5), sqs);
    await checkJobQueueRedrive({ kind: "embedded", dataDir: "/nonexistent", maxReceives: 7 });
  });

  it("refuses a different number, with both numbers and what to change", async () => {
    await assert.rejects(checkJobQueueRedrive(queue(queueUrl, 7), sqs), (error: Error) => {
      assert.ok(error instanceof SettingsError);
      assert.match(
        error.message,
        /^KOZMIC_MAX_RECEIVES is 7 but the SQS job queue .* after 5 receives/,
      );
      assert.match(
        error.message,
        /Set KOZMIC_MAX_RECEIVES=5, or change the queue's maxReceiveCount to 7/,
      );
      return true;
    });
  });

  it("refuses a queue without a redrive policy, and one that does not exist", async () => {
    const bare = await sqs.send(new CreateQueueCommand({ QueueName: uniqueQueueName("bare") }));
    await assert.rejects(
      checkJobQueueRedrive(queue(bare.QueueUrl!, 5), sqs),
      (error: Error) =>
        error instanceof SettingsError && /has no redrive policy/.test(error.message),
    );
    await assert.rejects(
      checkJobQueueRedrive(queue(`${queueUrl}-missing`, 5), sqs),
      (error: Error) =>
        error instanceof SettingsError &&
        /KOZMIC_QUEUE_URL must name an existing SQS queue/.test(error.message),
    );
  });

  it("reports an unreachable SQS as an outage, not as bad settings", async () => {
    const down = new SQSClient({
      endpoint: "http://127.0.0.1:1",
      region: services.region,
      maxAttempts: 1,
    });
    try {
      await assert.rejects(
        checkJobQueueRedrive(queue("http://127.0.0.1:1/000000000000/jobs", 5), down),
        (error: Error) =>
          error instanceof InfrastructureError &&
          /cannot read the redrive policy/.test(error.message),
      );
    } finally {
      down.destroy();
    }
  });

  it("kozmic runner refuses to start (exit 2) when they differ", () => {
    const result = run(["runner"], onSqs({ KOZMIC_MAX_RECEIVES: "7" }));
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /^kozmic runner: KOZMIC_MAX_RECEIVES is 7 but .* after 5 receives/m,
    );
  });

  it("kozmic serve running jobs on SQS refuses too; without a runner it does not check", async () => {
    const refused = run(
      ["serve"],
      onSqs({ KOZMIC_MAX_RECEIVES: "3", KOZMIC_EMBEDDED_RUNNER: "true", PORT: "0" }),
    );
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^kozmic serve: KOZMIC_MAX_RECEIVES is 3 but .* after 5 receives/m,
    );

    const { code, output } = await startAndStop(
      ["serve"],
      onSqs({ KOZMIC_MAX_RECEIVES: "3", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" }),
      /listening on .*, no runner here/,
    );
    assert.equal(code, 0, output);
  });

  it("kozmic runner starts when they are equal", async () => {
    const { code, output } = await startAndStop(
      ["runner"],
      onSqs({ KOZMIC_RUNNER_NAME: `redrive-${process.pid}`, KOZMIC_RUNNER_CONCURRENCY: "1" }),
      /receiving jobs/,
    );
    assert.equal(code, 0, output);
  });
});
