// How long a job waits when its runner dies, measured from outside as an operator sees it:
// a real `kozmic runner` process (production lease settings) runs a 12 s build; it is
// killed with SIGKILL mid-build and restarted at once (same runner name, as systemd
// would); timed from the kill until another runner holds the job (takeover) and until its
// check run is completed. On embedded defaults (SQLite) and on SQS + DynamoDB (ElasticMQ,
// DynamoDB Local). Baseline: the same job run by a runner nobody kills, start to completed.
//   npx tsx bench/takeover.bench.ts   (needs Docker; the AWS half needs the test services)
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { openEmbeddedQueue } from "../src/queue/embedded-queue.js";
import type { Queue } from "../src/queue/port.js";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../src/queue/sqs-queue.js";
import { ensureDynamoTable, openDynamoStore } from "../src/store/dynamodb-store.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import type { Store } from "../src/store/port.js";
import { PLAN_MAX_RECEIVES } from "../src/settings/storage-settings.js";
import { hooksYml, removeContainersOf, RUNNER_IMAGE } from "../test/e2e/runner-harness.js";
import { FakeGitHub, generateAppKey } from "../test/support/fake-github/index.js";
import { attachGitHttp } from "../test/support/fake-github/git-http.js";
import { createGitRepo } from "../test/support/git-repos.js";
import { planPush } from "../test/support/git-plan.js";
import { ensureBusyboxImage } from "../test/support/images.js";
import { kozmicArgv } from "../test/support/kozmic-cli.js";

const BUILD = "echo started\nsleep 12\necho done";

interface Backend {
  name: string;
  /** The runners' KOZMIC_DATA_DIR: for the embedded backend, where its queue and store are. */
  dataDir: string;
  env: Record<string, string>;
  queue: Queue;
  store: Store;
  close(): Promise<void>;
}

const key = generateAppKey();
ensureBusyboxImage(RUNNER_IMAGE);
const fake = await FakeGitHub.start({
  appPublicKey: key.publicKeyPem,
  appId: 61,
  enterprise: true,
  description: "ghes-3.17",
});
const http = attachGitHttp(fake);
const fullName = `bench/takeover-${randomUUID().slice(0, 6)}`;
const record = fake.addRepository({ fullName, installationId: 14 });
const git = createGitRepo(fake, http, fullName);

function runner(dataDir: string, name: string, backend: Backend): ChildProcess {
  return spawn(process.execPath, kozmicArgv(["runner"]), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      APP_ID: String(fake.appId),
      PRIVATE_KEY: key.privateKeyPem,
      GHE_HOST: fake.host,
      GHE_PROTOCOL: "http",
      KOZMIC_DATA_DIR: dataDir,
      KOZMIC_RUNNER_NAME: name,
      KOZMIC_RUNNER_CONCURRENCY: "1",
      KOZMIC_PUBLIC_URL: "https://ci.example.com",
      ...backend.env,
    },
    stdio: ["ignore", "ignore", "ignore"],
  });
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 300_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(100);
  }
}

async function pushJob(backend: Backend): Promise<{ jobId: string; sha: string }> {
  const config = hooksYml({ build: BUILD });
  const sha = git.commit({ ".github/kozmic.yml": config, nonce: randomUUID() });
  const { jobIds } = await planPush({
    fake,
    privateKey: key.privateKeyPem,
    queue: backend.queue,
    store: backend.store,
    repository: {
      id: record.id,
      fullName,
      cloneUrl: `${fake.origin}/${fullName}.git`,
      private: false,
    },
    installationId: 14,
    sha,
    config,
  });
  return { jobId: jobIds[0]!, sha };
}

const completed = (sha: string) => async () =>
  fake.checkRunsOf(fullName, sha)[0]?.status === "completed" ? Date.now() : undefined;

async function measure(backend: Backend): Promise<string> {
  const { dataDir } = backend;
  const name = `takeover-${randomUUID().slice(0, 6)}`;
  const children: ChildProcess[] = [];
  try {
    // Baseline: a runner nobody kills.
    children.push(runner(dataDir, name, backend));
    const plain = await pushJob(backend);
    await until("the baseline job to start", async () =>
      (await backend.store.getJob(plain.jobId))?.status === "running" ? true : undefined,
    );
    const plainStart = Date.now();
    const plainEnd = await until("the baseline job to complete", completed(plain.sha));
    const baseline = (plainEnd - plainStart) / 1000;

    // Killed mid-build, restarted at once.
    const { jobId, sha } = await pushJob(backend);
    const firstOwner = await until("the build to start", async () => {
      const log = (await backend.store.readLog(jobId)).map((c) => c.data).join("");
      const job = await backend.store.getJob(jobId);
      return log.includes("started\n") ? job?.leaseOwner : undefined;
    });
    const victim = children[0]!;
    victim.kill("SIGKILL");
    const killedAt = Date.now();
    await new Promise((resolve) => victim.once("exit", resolve));
    children.push(runner(dataDir, name, backend));
    const takenOverAt = await until("another runner to take the job", async () => {
      const job = await backend.store.getJob(jobId);
      return job?.leaseOwner && job.leaseOwner !== firstOwner ? Date.now() : undefined;
    });
    const doneAt = await until("the check run to complete", completed(sha));
    const conclusion = fake.checkRunsOf(fullName, sha)[0]?.conclusion;
    const takeover = (takenOverAt - killedAt) / 1000;
    const total = (doneAt - killedAt) / 1000;
    return (
      `${backend.name.padEnd(34)} takeover ${takeover.toFixed(1).padStart(5)} s   ` +
      `kill to completed (${conclusion}) ${total.toFixed(1).padStart(5)} s   ` +
      `baseline job ${baseline.toFixed(1)} s   ratio ${(total / baseline).toFixed(2)}`
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    removeContainersOf(name);
  }
}

async function embedded(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-takeover-db-"));
  const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
  const store = openEmbeddedStore({ dataDir: dir });
  return {
    name: "embedded defaults (SQLite)",
    dataDir: dir,
    env: {},
    queue,
    store,
    close: async () => {
      await queue.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function aws(): Promise<Backend | undefined> {
  const { AWS_ENDPOINT_URL_SQS: sqsUrl, AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl } = process.env;
  const region = process.env.AWS_REGION ?? "us-east-1";
  if (!sqsUrl || !dynamoUrl) return undefined;
  const sqs = new SQSClient({ endpoint: sqsUrl, region });
  const dynamo = new DynamoDBClient({ endpoint: dynamoUrl, region });
  const queueName = uniqueQueueName("takeover");
  const urls = await ensureSqsQueues(sqs, queueName, 5);
  await ensureSqsQueues(sqs, `${queueName}-plans`, PLAN_MAX_RECEIVES);
  const table = `takeover-${randomUUID()}`;
  await ensureDynamoTable(dynamo, table);
  const queue = openSqsQueue({ ...urls, client: sqs, log: () => {} });
  const store = openDynamoStore({ table, client: dynamo });
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-takeover-"));
  return {
    name: "SQS + DynamoDB (ElasticMQ, Local)",
    dataDir,
    env: {
      KOZMIC_QUEUE_URL: urls.queueUrl,
      KOZMIC_TABLE: table,
      KOZMIC_MAX_RECEIVES: "5",
      AWS_REGION: region,
      AWS_ENDPOINT_URL_SQS: sqsUrl,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "test",
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
    },
    queue,
    store,
    close: async () => {
      await queue.close();
      await store.close();
      sqs.destroy();
      dynamo.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

try {
  console.log("runner killed (SIGKILL) during a 12 s build and restarted at once");
  for (const make of [embedded, aws]) {
    const backend = await make();
    if (!backend) {
      console.log(
        "SQS + DynamoDB: skipped (AWS_ENDPOINT_URL_SQS/DYNAMODB unset; npm run bench sets them)",
      );
      continue;
    }
    try {
      console.log(await measure(backend));
    } finally {
      await backend.close();
    }
  }
} finally {
  http.close();
  await fake.close();
}
