// Throughput of each queue and store adapter on this machine, with the embedded adapters as
// the baseline. ElasticMQ and DynamoDB Local are used when test/support/services.sh has
// started them:  source test/support/services.sh && start_services && npx tsx bench/queue-store.bench.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { openEmbeddedQueue } from "../src/queue/embedded-queue.js";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../src/queue/sqs-queue.js";
import type { Queue } from "../src/queue/port.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import { ensureDynamoTable, openDynamoStore } from "../src/store/dynamodb-store.js";
import type { Store } from "../src/store/port.js";
import { aJobMessage } from "../test/support/job-fixtures.js";

async function queueMessagesPerSecond(queue: Queue, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i += 10) {
    await queue.sendBatch(Array.from({ length: Math.min(10, count - i) }, () => aJobMessage()));
  }
  let done = 0;
  while (done < count) {
    const batch = await queue.receive({ maxMessages: 10, waitSeconds: 1, visibilitySeconds: 60 });
    for (const message of batch) await queue.delete(message.receipt);
    done += batch.length;
  }
  return count / ((performance.now() - start) / 1000);
}

async function logBytesPerSecond(store: Store, chunks: number): Promise<number> {
  const jobId = `bench-${randomUUID()}`;
  const data = "x".repeat(16 * 1024);
  const start = performance.now();
  for (let seq = 0; seq < chunks; seq++) await store.appendLog({ jobId, seq, data });
  let read = 0;
  for (let from = 0; from < chunks;) {
    const page = await store.readLog(jobId, from, 50);
    read += page.reduce((n, c) => n + c.data.length, 0);
    from += page.length;
  }
  if (read !== chunks * data.length) throw new Error(`read back ${read} bytes`);
  return (2 * read) / ((performance.now() - start) / 1000);
}

const rows: [string, string, number][] = [];
const dir = mkdtempSync(join(tmpdir(), "kozmic-bench-"));
try {
  const queue = openEmbeddedQueue({ dataDir: dir, name: "bench" });
  rows.push(["queue", "embedded", await queueMessagesPerSecond(queue, 2000)]);
  await queue.close();
  const store = openEmbeddedStore({ dataDir: dir });
  rows.push(["log", "embedded", await logBytesPerSecond(store, 500)]);
  await store.close();

  const { AWS_ENDPOINT_URL_SQS: sqsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint } =
    process.env;
  const region = process.env.AWS_REGION ?? "us-east-1";
  if (sqsEndpoint && dynamoEndpoint) {
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region });
    const urls = await ensureSqsQueues(sqs, uniqueQueueName("bench"), 5);
    rows.push([
      "queue",
      "sqs (ElasticMQ)",
      await queueMessagesPerSecond(openSqsQueue({ ...urls, client: sqs }), 500),
    ]);
    sqs.destroy();
    const dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, region });
    const table = `bench-${randomUUID()}`;
    await ensureDynamoTable(dynamo, table);
    rows.push([
      "log",
      "dynamodb (DynamoDB Local)",
      await logBytesPerSecond(openDynamoStore({ table, client: dynamo }), 200),
    ]);
    dynamo.destroy();
  } else {
    console.log("ElasticMQ/DynamoDB Local not started: measuring the embedded adapters only");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const baseline = (kind: string) => rows.find(([k, a]) => k === kind && a === "embedded")![2];
for (const [kind, adapter, rate] of rows) {
  const unit = kind === "queue" ? "messages/s (send+receive+delete)" : "MiB/s (append + read back)";
  const value = kind === "queue" ? rate.toFixed(0) : (rate / 2 ** 20).toFixed(1);
  console.log(
    `${kind.padEnd(6)} ${adapter.padEnd(26)} ${value.padStart(8)} ${unit}  x${(rate / baseline(kind)).toFixed(3)} of embedded`,
  );
}
