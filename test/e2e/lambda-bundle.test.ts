import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, afterEach, before, describe, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { bundleLambda, type BundleResult } from "../../scripts/bundle-lambda.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { scheduleId, SCHEDULE_TICK_EVENT } from "../../src/core/schedules.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import type { Store } from "../../src/store/port.js";
import { HOOKS_YML, newSha } from "../support/app-harness.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { FakeSecretsManager } from "../support/fake-secrets-manager.js";
import { testServices } from "../support/services.js";
import { pushPayload, signDelivery } from "../support/webhooks.js";

const RUNTIME = new URL("../support/lambda-runtime.mjs", import.meta.url).pathname;
const ASSETS = new URL("../../src/web/assets/", import.meta.url);
const key = generateAppKey();
const WEBHOOK_SECRET = "bundle-webhook-secret";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kozmic-app-AbCdEf";
const PARTIAL_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:partial-XyZ";
const PUBLIC_URL = "https://ci.example.test";

type Answer = { id: number; result?: unknown; error?: { name: string; message: string } };

/** One bundle in a plain `node` process (test/support/lambda-runtime.mjs): one container. */
class LambdaContainer {
  private next = 0;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  /** What the function logged (stdout and stderr). */
  log = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly importMs: number,
  ) {}

  static async start(file: string, env: Record<string, string>): Promise<LambdaContainer> {
    const child = spawn(process.execPath, [RUNTIME, file], {
      env,
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    let log = "";
    for (const out of [child.stdout!, child.stderr!]) out.on("data", (d: Buffer) => (log += d));
    const lines = createInterface({ input: child.stdio[3] as Readable });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the bundle exited (${code}): ${log}`)));
    });
    const loaded = JSON.parse(first) as { imported: number; exports: string[] };
    const container = new LambdaContainer(child, loaded.imported);
    container.log = log;
    for (const out of [child.stdout!, child.stderr!]) {
      out.on("data", (d: Buffer) => (container.log += d));
    }
    lines.on("line", (line) => {
      const answer = JSON.parse(line) as Answer;
      container.waiting.get(answer.id)?.(answer);
      container.waiting.delete(answer.id);
    });
    return container;
  }

  invoke(handler: string, event: unknown): Promise<Answer> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      (this.child.stdin as Writable).write(`${JSON.stringify({ id, handler, event })}\n`);
    });
  }

  /** An invocation that must succeed: its result. */
  async call<T>(handler: string, event: unknown): Promise<T> {
    const answer = await this.invoke(handler, event);
    assert.equal(
      answer.error,
      undefined,
      `${handler} failed: ${answer.error?.message}\n${this.log}`,
    );
    return answer.result as T;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGKILL");
    });
  }
}

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A Lambda function URL event, payload format 2.0, as AWS sends it. */
function functionUrlEvent(request: {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}): unknown {
  const headers = Object.fromEntries(
    Object.entries({
      host: "abcdefg.lambda-url.us-east-1.on.aws",
      "x-forwarded-proto": "https",
      ...request.headers,
    }).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: request.path,
    rawQueryString: request.query ?? "",
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "abcdefg",
      domainName: headers.host,
      domainPrefix: "abcdefg",
      http: {
        method: request.method,
        path: request.path,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: headers["user-agent"] ?? "test",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(request.body === undefined
      ? {}
      : { body: Buffer.from(request.body).toString("base64"), isBase64Encoded: true }),
  };
}

describe("the Lambda bundle, in plain node, on ElasticMQ and DynamoDB Local", () => {
  const services = testServices();
  const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
  const dynamo = new DynamoDBClient({
    endpoint: services.dynamodbEndpoint,
    region: services.region,
  });
  let outDir: string;
  let bundles: Record<string, BundleResult>;
  let fake: FakeGitHub;
  let secrets: FakeSecretsManager;
  let store: Store;
  let env: Record<string, string>;
  let webhook: LambdaContainer;
  let planner: LambdaContainer;
  const started: LambdaContainer[] = [];

  const start = async (name: string, vars: Record<string, string>) => {
    const container = await LambdaContainer.start(bundles[name]!.file, vars);
    started.push(container);
    return container;
  };

  before(async () => {
    // Each bundle alone in a temp directory: no node_modules or sources beside it.
    outDir = mkdtempSync(join(tmpdir(), "kozmic-bundle-"));
    bundles = Object.fromEntries((await bundleLambda(outDir)).map((b) => [b.name, b]));
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 41, enterprise: true });
    secrets = await FakeSecretsManager.start({
      [SECRET_ARN]: JSON.stringify({
        PRIVATE_KEY: key.privateKeyPem,
        WEBHOOK_SECRET,
        GITHUB_CLIENT_SECRET: "",
        KOZMIC_SESSION_SECRET: "",
      }),
      [PARTIAL_SECRET_ARN]: JSON.stringify({ PRIVATE_KEY: key.privateKeyPem }),
    });
    const name = uniqueQueueName("lambda-bundle");
    const jobs = await ensureSqsQueues(sqs, name, 5);
    const plans = await ensureSqsQueues(sqs, `${name}-plans`, PLAN_MAX_RECEIVES);
    const table = `lambda-bundle-${randomUUID()}`;
    await ensureDynamoTable(dynamo, table);
    store = openDynamoStore({ table, client: dynamo });
    env = {
      PATH: process.env.PATH ?? "",
      APP_ID: "41",
      GHE_HOST: fake.host,
      GHE_PROTOCOL: "http",
      KOZMIC_PUBLIC_URL: PUBLIC_URL,
      KOZMIC_QUEUE_URL: jobs.queueUrl,
      KOZMIC_DEAD_LETTER_QUEUE_URL: jobs.deadLetterQueueUrl,
      KOZMIC_PLAN_QUEUE_URL: plans.queueUrl,
      KOZMIC_TABLE: table,
      KOZMIC_SECRET_ARN: SECRET_ARN,
      AWS_REGION: services.region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      LOG_LEVEL: "warn",
    };
    webhook = await start("webhook", env);
    planner = await start("planner", env);
  });
  after(async () => {
    await Promise.all(started.map((c) => c.stop()));
    await store?.close();
    await fake?.close();
    await secrets?.close();
    sqs.destroy();
    dynamo.destroy();
    rmSync(outDir, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(fake.violations, []));

  /** Lambda's SQS event source: up to 10 messages as one event, in its record format. */
  async function receiveAsSqsEvent(queueUrl: string) {
    for (let tries = 0; tries < 20; tries++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
      );
      if (Messages.length === 0) continue;
      return {
        Records: Messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {
            ApproximateReceiveCount: m.Attributes!.ApproximateReceiveCount!,
            SentTimestamp: m.Attributes!.SentTimestamp!,
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody!,
          eventSource: "aws:sqs",
          eventSourceARN: `arn:aws:sqs:${services.region}:000000000000:${queueUrl.split("/").at(-1)}`,
          awsRegion: services.region,
        })),
      };
    }
    assert.fail(`no message arrived on ${queueUrl}`);
  }

  /** Deletes an event's messages, as Lambda does for a batch it handled. */
  async function deleteAll(queueUrl: string, event: { Records: { receiptHandle: string }[] }) {
    for (const record of event.Records) {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }),
      );
    }
  }

  function repository() {
    const fullName = `acme/bundle-${newSha().slice(-6)}`;
    const repo = fake.addRepository({ fullName, installationId: 9 });
    const sha = newSha();
    fake.addCommit(fullName, sha, { ".github/kozmic.yml": HOOKS_YML }, "main");
    return { target: { fullName, id: repo.id, installationId: 9 }, sha };
  }

  function push(target: { fullName: string; id: number; installationId: number }, sha: string) {
    const d = signDelivery("push", pushPayload(target, { sha }), WEBHOOK_SECRET);
    return functionUrlEvent({
      method: "POST",
      path: "/api/github/webhooks",
      headers: d.headers,
      body: d.body,
    });
  }

  it("loads alone, with no native module, no SQLite and nothing beside it", () => {
    console.log(
      `bundle import time in plain node ${process.version}: webhook ${webhook.importMs.toFixed(0)} ms, planner ${planner.importMs.toFixed(0)} ms; sizes ${Object.values(
        bundles,
      )
        .map((b) => `${b.name} ${(b.bytes / 1024 / 1024).toFixed(1)} MB`)
        .join(", ")}`,
    );
    for (const { file } of Object.values(bundles)) {
      const text = readFileSync(file, "utf8");
      assert.doesNotMatch(text, /better-sqlite3|better_sqlite3/);
      assert.doesNotMatch(text, /require\([^)]*\.node["'`]\)/);
      assert.doesNotMatch(text, /readFileSync\([^)]*import\.meta\.url/);
    }
  });

  it("a signed push is queued for planning; the planner's handler makes the check runs and job messages", async () => {
    const { target, sha } = repository();
    const res = await webhook.call<HttpResult>("handler", push(target, sha));
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(fake.checkRunsOf(target.fullName, sha), [], "no GitHub call before 202");

    const planEvent = await receiveAsSqsEvent(env.KOZMIC_PLAN_QUEUE_URL!);
    assert.equal(planEvent.Records.length, 1);
    const planned = JSON.parse(planEvent.Records[0]!.body) as {
      repository: { fullName: string };
      task: { kind: string; sha: string };
    };
    assert.equal(planned.repository.fullName, target.fullName);
    assert.deepEqual([planned.task.kind, planned.task.sha], ["build", sha]);

    const response = await planner.call("planHandler", planEvent);
    assert.deepEqual(response, { batchItemFailures: [] });
    await deleteAll(env.KOZMIC_PLAN_QUEUE_URL!, planEvent);
    const runs = fake.checkRunsOf(target.fullName, sha);
    assert.deepEqual(runs.map((r) => [r.name, r.status]).sort(), [
      ["lint", "queued"],
      ["test", "queued"],
    ]);
    for (const run of runs)
      assert.match(run.details_url ?? "", /^https:\/\/ci\.example\.test\/jobs\//);

    const jobEvent = await receiveAsSqsEvent(env.KOZMIC_QUEUE_URL!);
    const jobs = jobEvent.Records.map((r) => JSON.parse(r.body) as { checkRunId: number });
    assert.deepEqual(jobs.map((j) => j.checkRunId).sort(), runs.map((r) => r.id).sort());

    // The secret was read once for each container, however many invocations followed.
    const reads = secrets.requests.filter(
      (r) => (r.body as { SecretId?: string }).SecretId === SECRET_ARN,
    );
    assert.equal(reads.length, 2);
    for (const r of reads) {
      assert.equal(r.target, "secretsmanager.GetSecretValue");
      assert.equal(r.contentType, "application/x-amz-json-1.1");
      assert.ok(r.signed);
    }
  });

  it("the schedule rule's event, to two planner containers at once, hands a due tick to the planning queue once; planned, it builds the branch's head", async () => {
    const { target } = repository();
    const head = newSha();
    const yml = `${HOOKS_YML}schedule:\n  - cron: "0 3 * * *"\n`;
    fake.addCommit(target.fullName, head, { ".github/kozmic.yml": yml }, "main");
    // As a push to main two days ago left it.
    const cron = "0 3 * * *";
    await store.replaceSchedules(target.id, [
      {
        id: scheduleId(target.id, cron, "main"),
        repoId: target.id,
        repoFullName: target.fullName,
        repoPrivate: false,
        installationId: target.installationId,
        cron,
        branch: "main",
        lastTick: Date.now() - 2 * 86_400_000,
      },
    ]);
    const second = await start("planner", env);
    type Fired = { fired: { repoFullName: string; outcome: string }[] };
    const answers = await Promise.all(
      [planner, second].map((p) => p.call<Fired>("planHandler", SCHEDULE_TICK_EVENT)),
    );
    const fired = answers.flatMap((a) => a.fired).filter((f) => f.repoFullName === target.fullName);
    assert.equal(fired.filter((f) => f.outcome === "enqueued").length, 1, JSON.stringify(fired));

    const planEvent = await receiveAsSqsEvent(env.KOZMIC_PLAN_QUEUE_URL!);
    const tasks = planEvent.Records.map(
      (r) => (JSON.parse(r.body) as { task: { kind: string; branch: string } }).task,
    );
    assert.deepEqual(
      tasks.map((t) => [t.kind, t.branch]),
      [["schedule", "main"]],
    );
    assert.deepEqual(await planner.call("planHandler", planEvent), { batchItemFailures: [] });
    await deleteAll(env.KOZMIC_PLAN_QUEUE_URL!, planEvent);
    const runs = fake.checkRunsOf(target.fullName, head);
    assert.deepEqual(runs.map((r) => r.name).sort(), ["lint", "test"]);
    const builds = await store.listBuilds(target.id);
    assert.deepEqual(
      builds.map((b) => [b.event, b.sha]),
      [["schedule", head]],
    );
    const jobEvent = await receiveAsSqsEvent(env.KOZMIC_QUEUE_URL!);
    await deleteAll(env.KOZMIC_QUEUE_URL!, jobEvent);
  });

  it("serves a job's log page and the pages' assets from the bundle", async () => {
    const { target, sha } = repository();
    assert.equal((await webhook.call<HttpResult>("handler", push(target, sha))).statusCode, 202);
    await planner.call("planHandler", await receiveAsSqsEvent(env.KOZMIC_PLAN_QUEUE_URL!));
    const [build] = await store.findBuildsByCommit(target.id, sha);
    const [job] = await store.listJobs(build!.id);
    await store.appendLog({
      jobId: job!.id,
      seq: 0,
      data: "\u001b[32mhello from the bundle\u001b[0m\n",
    });

    const page = await webhook.call<HttpResult>(
      "handler",
      functionUrlEvent({
        method: "GET",
        path: `/jobs/${job!.id}`,
        headers: { accept: "text/html" },
      }),
    );
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.headers["content-type"] ?? "", /text\/html/);
    assert.match(page.body, new RegExp(target.fullName));
    assert.match(page.body, /hello from the bundle/);

    for (const [name, type] of [
      ["kozmic.css", /text\/css/],
      ["follow.js", /text\/javascript/],
    ] as const) {
      const asset = await webhook.call<HttpResult>(
        "handler",
        functionUrlEvent({ method: "GET", path: `/assets/${name}` }),
      );
      assert.equal(asset.statusCode, 200);
      assert.match(asset.headers["content-type"] ?? "", type);
      assert.equal(asset.body, readFileSync(new URL(name, ASSETS), "utf8"));
    }
  });

  it("answers 401 to a bad signature and queues nothing", async () => {
    const { target, sha } = repository();
    const d = signDelivery("push", pushPayload(target, { sha }), "not-the-secret");
    const res = await webhook.call<HttpResult>(
      "handler",
      functionUrlEvent({
        method: "POST",
        path: "/api/github/webhooks",
        headers: d.headers,
        body: d.body,
      }),
    );
    assert.equal(res.statusCode, 401);
    assert.match(res.body, /signature does not match/);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.KOZMIC_PLAN_QUEUE_URL, WaitTimeSeconds: 1 }),
    );
    assert.deepEqual(Messages, []);
  });

  it("refuses to start without the queue and table settings, naming them", async () => {
    const { KOZMIC_QUEUE_URL: _q, KOZMIC_PLAN_QUEUE_URL: _p, KOZMIC_TABLE: _t, ...rest } = env;
    for (const [name, handler, event] of [
      ["webhook", "handler", functionUrlEvent({ method: "GET", path: "/" })],
      ["planner", "planHandler", { Records: [] }],
    ] as const) {
      const container = await start(name, { ...rest, KOZMIC_DEAD_LETTER_QUEUE_URL: "" });
      const { error } = await container.invoke(handler, event);
      assert.equal(error?.name, "SettingsError", `${name}: ${JSON.stringify(error)}`);
      assert.match(error.message, /^KOZMIC_QUEUE_URL is required on AWS Lambda/m);
      assert.match(error.message, /^KOZMIC_TABLE is required on AWS Lambda/m);
      // Every invocation says so again; none falls back to SQLite on the read-only disk.
      assert.equal((await container.invoke(handler, event)).error?.name, "SettingsError");
    }
  });

  it("names the secret and what it lacks, or that it cannot be found", async () => {
    const cases = [
      [
        PARTIAL_SECRET_ARN,
        /which lacks WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, KOZMIC_SESSION_SECRET/,
      ],
      [`${SECRET_ARN}-gone`, /could not be read: ResourceNotFoundException/],
    ] as const;
    for (const [arn, problem] of cases) {
      const container = await start("webhook", { ...env, KOZMIC_SECRET_ARN: arn });
      const { error } = await container.invoke(
        "handler",
        functionUrlEvent({ method: "GET", path: "/" }),
      );
      assert.equal(error?.name, "SettingsError", JSON.stringify(error));
      assert.ok(error.message.includes(`KOZMIC_SECRET_ARN names the secret ${arn}`), error.message);
      assert.match(error.message, problem);
      assert.ok(!error.message.includes("PRIVATE KEY"), "the key in a message");
    }
  });
});
