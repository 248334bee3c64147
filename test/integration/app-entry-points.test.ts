import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { Hono } from "hono";
import { pino } from "pino";
import { Writable } from "node:stream";
import { readSettings, type Env } from "../../src/settings/read-settings.js";
import {
  createLambdaHandler,
  createPlanRecordsHandler,
  PLAN_DEADLINE_MARGIN_MS,
  type LambdaHttpEvent,
  type LambdaHttpResult,
  type SqsBatchResponse,
  type SqsEvent,
} from "../../src/lambda.js";
import type { PlanMessage } from "../../src/core/plan-message.js";
import { checkPublicUrl } from "../../src/doctor/checks.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { createWebApp } from "../../src/web/web-app.js";
import { createRepositoryFinder } from "../../src/web/find-repository-with-app.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import type { InspectableQueue } from "../../src/queue/port.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import { HOOKS_YML, newSha } from "../support/app-harness.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { startApp } from "../support/start-app.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";

const readServerSettings = (env: Env) => {
  const s = readSettings(env, ["app", "server"]);
  return { ...s.app, ...s.server };
};

const key = generateAppKey();
const ONE_HOOK = "hooks:\n  - name: test\n    image: alpine:3\n    build: npm test\n";
const ROOT = new URL("../..", import.meta.url).pathname;

function kozmic(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, kozmicArgv(args), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function finished(
  child: ChildProcess,
): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, out, err };
}

async function drain(queue: InspectableQueue) {
  const out = [];
  for (;;) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 60 });
    if (batch.length === 0) return out;
    for (const m of batch) {
      out.push(m.body);
      await queue.delete(m.receipt);
    }
  }
}

describe("kozmic serve against GitHub Enterprise Server", () => {
  let fake: FakeGitHub;
  let dir: string;
  before(async () => {
    fake = await FakeGitHub.start({
      appPublicKey: key.publicKeyPem,
      appId: 31,
      enterprise: true,
      description: "ghes-3.17",
    });
    dir = mkdtempSync(join(tmpdir(), "kozmic-serve-"));
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(fake.violations, []));

  const settings = () => ({
    APP_ID: "31",
    PRIVATE_KEY: key.privateKeyPem,
    WEBHOOK_SECRET: "serve-secret",
    PORT: "0",
    HOST: "127.0.0.1",
    GHE_HOST: fake.host,
    GHE_PROTOCOL: "http",
    KOZMIC_PUBLIC_URL: "https://ci.example.test/",
    KOZMIC_DATA_DIR: dir,
    LOG_LEVEL: "warn",
    // Left on, the single-box runner would take the message this test reads back.
    KOZMIC_EMBEDDED_RUNNER: "false",
  });

  it("stops with exit 2 and names the variable when a setting is missing or bad", async () => {
    const { APP_ID: _omit, ...noAppId } = settings();
    const missing = await finished(kozmic(["serve"], { ...noAppId, GHE_PROTOCOL: "ftp" }));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /APP_ID is required/);
    assert.match(missing.err, /GHE_PROTOCOL must be "https" or "http"/);

    const { PRIVATE_KEY: _key, ...noKey } = settings();
    const path = join(dir, "missing.pem");
    const badPath = await finished(kozmic(["serve"], { ...noKey, PRIVATE_KEY_PATH: path }));
    assert.equal(badPath.code, 2);
    assert.match(
      badPath.err,
      /PRIVATE_KEY_PATH must name a readable file, got ".*missing\.pem" \(ENOENT\)/,
    );
    assert.doesNotMatch(badPath.err, /\n\s+at /, "a stack trace instead of a message");
  });

  it("turns a signed push into a queued check run and a message, then stops on SIGTERM", async () => {
    const repo = fake.addRepository({ fullName: "corp/service", installationId: 5 });
    const sha = newSha();
    fake.addCommit("corp/service", sha, { ".github/kozmic.yml": ONE_HOOK }, "main");

    const child = kozmic(["serve"], settings());
    const result = finished(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const match = /listening on (http:\/\/\S+?),/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on("exit", () => reject(new Error(`kozmic serve exited early: ${out}`)));
    });

    assert.equal(await (await fetch(`${url}/ping`)).text(), "PONG");
    const target = { fullName: "corp/service", id: repo.id, installationId: 5 };
    const delivery = signDelivery("push", pushPayload(target, { sha }), "serve-secret");
    const res = await postDelivery(`${url}/api/github/webhooks`, delivery);
    // Accepted at once; the server's planner does the GitHub work behind the planning queue.
    assert.equal(res.status, 202, await res.text());
    const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    try {
      const messages = [];
      const deadline = Date.now() + 120_000;
      while (messages.length === 0 && Date.now() < deadline) {
        messages.push(...(await drain(queue)));
        if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const [run] = fake.checkRunsOf("corp/service", sha);
      assert.equal(run?.status, "queued");
      assert.match(run!.details_url!, /^https:\/\/ci\.example\.test\/jobs\/[0-9a-f-]{36}$/);
      assert.ok(fake.requests.every((r) => r.path.startsWith("/api/v3/")));
      assert.equal(messages.length, 1);
      assert.equal(messages[0]!.checkRunId, run!.id);

      child.kill("SIGTERM");
      const { code } = await result;
      assert.equal(code, 0);
      assert.deepEqual(await drain(queue), [], "one message for one hook");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await queue.close();
    }
  });
});

describe("the Lambda handlers", () => {
  let fake: FakeGitHub;
  let dir: string;
  let queue: InspectableQueue;
  let planQueue: InspectableQueue<PlanMessage>;
  let store: Store;
  let handle: (event: LambdaHttpEvent) => Promise<LambdaHttpResult>;
  let plan: (event: SqsEvent) => Promise<SqsBatchResponse>;
  const secret = "lambda-secret";
  const logs: string[] = [];

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 32 });
    dir = mkdtempSync(join(tmpdir(), "kozmic-lambda-"));
    queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    planQueue = openEmbeddedQueue({ dataDir: dir, name: "plans", kind: PLAN_MESSAGES });
    store = openEmbeddedStore({ dataDir: dir });
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const settings = {
      appId: 32,
      privateKey: key.privateKeyPem,
      webhookSecret: secret,
      port: 0,
      host: "127.0.0.1",
      baseUrl: fake.url,
      publicUrl: "https://ci.example.test",
      logLevel: "info" as const,
      embeddedRunner: false,
    };
    plan = createPlanRecordsHandler(settings, {
      queue,
      planQueue,
      store,
      octokit: { retryAfterBaseValue: 1 },
      log: pino({ level: "info" }, sink),
      retry: { baseSeconds: 1, maxSeconds: 2 },
    });
    handle = await createLambdaHandler(settings, {
      planQueue,
      store,
      octokit: { retryAfterBaseValue: 1 },
      log: pino({ level: "info" }, sink),
      // The log pages, as the Lambda entry mounts them.
      pagesFor: (app) =>
        createWebApp({
          store,
          settings: {
            publicUrl: "https://ci.example.test",
            githubWebUrl: "https://github.com",
            githubApiUrl: fake.url,
            oauth: { enabled: false, missing: ["GITHUB_CLIENT_ID"] },
          },
          actions: app.actions,
          findRepository: createRepositoryFinder(app.auth),
          liveMaxMs: 0,
        }),
    });
  });
  after(async () => {
    await fake.close();
    await queue.close();
    await planQueue.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(fake.violations, []));

  /**
   * Lambda's SQS event source, as AWS runs it: receives up to 10 planning messages, calls
   * the planner handler with them and deletes those it did not report as failed.
   */
  async function runEventSource(waitSeconds = 0): Promise<SqsBatchResponse> {
    const received = await planQueue.receive({
      maxMessages: 10,
      visibilitySeconds: 60,
      waitSeconds,
    });
    const response = await plan({
      Records: received.map((m) => ({
        messageId: m.messageId,
        receiptHandle: m.receipt,
        body: JSON.stringify(m.body),
        attributes: { ApproximateReceiveCount: String(m.receiveCount) },
      })),
    });
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const m of received) if (!failed.has(m.messageId)) await planQueue.delete(m.receipt);
    return response;
  }

  function repository() {
    const name = `acme/lambda-${newSha().slice(-6)}`;
    const repo = fake.addRepository({ fullName: name, installationId: 8 });
    const sha = newSha();
    fake.addCommit(name, sha, { ".github/kozmic.yml": HOOKS_YML }, "main");
    return { target: { fullName: name, id: repo.id, installationId: 8 }, sha };
  }

  it("a function URL event (base64 body, mixed-case headers) queues check runs and messages", async () => {
    const { target, sha } = repository();
    const d = signDelivery("push", pushPayload(target, { sha }), secret);
    const headers = Object.fromEntries(
      Object.entries(d.headers).map(([k, v]) => [k.replace(/(^|-)\w/g, (s) => s.toUpperCase()), v]),
    );
    const res = await handle({
      headers,
      body: Buffer.from(d.body).toString("base64"),
      isBase64Encoded: true,
      requestContext: { http: { method: "POST" } },
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(
      fake.checkRunsOf(target.fullName, sha),
      [],
      "no GitHub work before the answer",
    );
    assert.deepEqual(await runEventSource(), { batchItemFailures: [] });
    const runs = fake.checkRunsOf(target.fullName, sha);
    assert.deepEqual(runs.map((r) => r.name).sort(), ["lint", "test"]);
    const messages = await drain(queue);
    assert.deepEqual(messages.map((m) => m.checkRunId).sort(), runs.map((r) => r.id).sort());
  });

  it("serves the log pages for other paths, in both event formats, live tails answering at once", async () => {
    const { target, sha } = repository();
    const d = signDelivery("push", pushPayload(target, { sha }), secret);
    const hook = await handle({
      headers: d.headers,
      body: d.body,
      rawPath: "/api/github/webhooks",
    });
    assert.equal(hook.statusCode, 202, hook.body);
    await runEventSource();
    const [message] = await drain(queue);
    assert.ok(message);
    await store.appendLog({ jobId: message.jobId, seq: 0, data: "hello from lambda\n" });

    const page = await handle({
      rawPath: `/jobs/${message.jobId}`,
      rawQueryString: "",
      headers: { accept: "text/html" },
      requestContext: { http: { method: "GET" } },
    });
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.headers["content-type"] ?? "", /text\/html/);
    assert.match(page.body, new RegExp(target.fullName));
    assert.match(page.body, /hello from lambda/);

    const raw = await handle({ path: `/jobs/${message.jobId}/log.txt`, httpMethod: "GET" });
    assert.equal(raw.statusCode, 200);
    assert.equal(raw.body, "hello from lambda\n");

    const live = await handle({
      path: `/jobs/${message.jobId}/live`,
      queryStringParameters: { seq: "0" },
      httpMethod: "GET",
    });
    assert.equal(live.statusCode, 200);
    assert.match(live.headers["content-type"] ?? "", /text\/event-stream/);
    assert.match(live.body, /hello from lambda/);

    const unknown = await handle({ path: "/jobs/no-such-job", httpMethod: "GET" });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(fake.checkRunsOf(target.fullName, sha).length, 2);
  });

  it("refuses a bad signature (401) and missing headers (400), and builds nothing", async () => {
    const { target, sha } = repository();
    const d = signDelivery("push", pushPayload(target, { sha }), "wrong-secret");
    const bad = await handle({ headers: d.headers, body: d.body, httpMethod: "POST" });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.body, /signature does not match/);
    const { "x-github-delivery": _id, ...partial } = d.headers;
    const missing = await handle({ headers: partial, body: d.body });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /x-github-delivery/);
    assert.equal(
      (await handle({ headers: d.headers, body: "", httpMethod: "GET" })).statusCode,
      405,
    );
    assert.deepEqual(fake.checkRunsOf(target.fullName), []);
    assert.deepEqual(await drain(queue), []);
  });

  it("answers GET /healthz as kozmic serve does, so kozmic doctor's public URL check passes", async () => {
    const functionUrl = await handle({
      rawPath: "/healthz",
      headers: {},
      requestContext: { http: { method: "GET" } },
    });
    assert.equal(functionUrl.statusCode, 200);
    assert.deepEqual(JSON.parse(functionUrl.body), { status: "ok" });
    assert.equal(functionUrl.headers["cache-control"], "no-store");
    const rest = await handle({ path: "/healthz", httpMethod: "GET" });
    assert.equal(rest.statusCode, 200);
    assert.notEqual((await handle({ rawPath: "/healthz", httpMethod: "POST" })).statusCode, 200);

    // The function URL in front of it: each request as a payload 2.0 event.
    const url = createServer((req, res) => {
      const [rawPath, rawQueryString = ""] = (req.url ?? "/").split("?") as [string, string?];
      void handle({
        rawPath,
        rawQueryString,
        headers: req.headers as Record<string, string>,
        requestContext: { http: { method: req.method ?? "GET" } },
      }).then((answer) => res.writeHead(answer.statusCode, answer.headers).end(answer.body));
    });
    await new Promise<void>((resolve) => url.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = url.address() as AddressInfo;
      const check = await checkPublicUrl(`http://127.0.0.1:${port}/`);
      assert.equal(check.status, "ok", check.detail);
      assert.match(check.detail, /\/healthz answers 200/);
    } finally {
      url.close();
    }
  });

  it("answers 202 while GitHub is down; the planner handler reports the record failed, and plans it once GitHub is back", async () => {
    const { target, sha } = repository();
    fake.failFor(60_000, 502);
    const d = signDelivery("push", pushPayload(target, { sha }), secret, "lambda-outage-1");
    const res = await handle({ headers: d.headers, body: d.body });
    assert.equal(res.statusCode, 202, res.body);
    const first = await runEventSource();
    assert.equal(first.batchItemFailures.length, 1);
    assert.ok(
      logs.some((line) => line.includes("lambda-outage-1") && line.includes("trying again")),
    );
    assert.deepEqual(
      await planQueue.receive({ maxMessages: 10 }),
      [],
      "the failed record is hidden for its backoff",
    );
    fake.clearFailures();
    // Long-polls as the event source does: the record comes back when its backoff ends.
    assert.deepEqual(await runEventSource(20), { batchItemFailures: [] });
    assert.equal(fake.checkRunsOf(target.fullName, sha).length, 2);
    assert.equal((await drain(queue)).length, 2);
  });

  it("a record GitHub holds up past the function's deadline is reported failed alone; the rest of the batch is planned", async () => {
    const ready = repository();
    const held = fake.addRepository({
      fullName: `acme/held-${newSha().slice(-6)}`,
      installationId: 99,
    });
    const heldSha = newSha();
    fake.addCommit(held.fullName, heldSha, { ".github/kozmic.yml": HOOKS_YML }, "main");
    // GitHub as the planner reaches it: installation 99's token request is never answered.
    const stalled: import("node:http").ServerResponse[] = [];
    const proxy = createServer((req, res) => {
      if (req.url?.startsWith("/app/installations/99/")) {
        stalled.push(res);
        return;
      }
      const upstream = new URL(fake.url);
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: `${upstream.pathname.replace(/\/$/, "")}${req.url}`,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(forward);
    });
    await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
    try {
      const planner = createPlanRecordsHandler(
        {
          appId: 32,
          privateKey: key.privateKeyPem,
          webhookSecret: secret,
          port: 0,
          host: "127.0.0.1",
          baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
          publicUrl: "https://ci.example.test",
          logLevel: "info" as const,
          embeddedRunner: false,
        },
        {
          queue,
          planQueue,
          store,
          octokit: { retryAfterBaseValue: 1 },
          log: pino(
            { level: "info" },
            new Writable({ write: (c: Buffer, _e, done) => (logs.push(c.toString()), done()) }),
          ),
          retry: { baseSeconds: 1, maxSeconds: 2 },
        },
      );
      for (const [target, sha, id] of [
        [ready.target, ready.sha, "deadline-ready"],
        [{ fullName: held.fullName, id: held.id, installationId: 99 }, heldSha, "deadline-held"],
      ] as const) {
        const d = signDelivery("push", pushPayload(target, { sha }), secret, id);
        assert.equal((await handle({ headers: d.headers, body: d.body })).statusCode, 202);
      }
      const received = await planQueue.receive({ maxMessages: 10, visibilitySeconds: 60 });
      assert.equal(received.length, 2);
      // Lambda's context: two seconds left beyond the margin the planner keeps back.
      const context = { getRemainingTimeInMillis: () => PLAN_DEADLINE_MARGIN_MS + 2_000 };
      const response = await planner(
        {
          Records: received.map((m) => ({
            messageId: m.messageId,
            receiptHandle: m.receipt,
            body: JSON.stringify(m.body),
            attributes: { ApproximateReceiveCount: String(m.receiveCount) },
          })),
        },
        context,
      );
      const heldMessage = received.find((m) => m.body.deliveryId === "deadline-held")!;
      assert.deepEqual(response, {
        batchItemFailures: [{ itemIdentifier: heldMessage.messageId }],
      });
      assert.ok(stalled.length > 0, "the held installation's token was asked for");
      assert.equal(fake.checkRunsOf(ready.target.fullName, ready.sha).length, 2);
      assert.deepEqual(fake.checkRunsOf(held.fullName, heldSha), []);
      assert.ok(
        logs.some(
          (l) =>
            l.includes("deadline-held") && l.includes("not planned before the function's deadline"),
        ),
      );
      for (const m of received) await planQueue.delete(m.receipt);
      await drain(queue);
    } finally {
      for (const res of stalled) res.destroy();
      proxy.closeAllConnections();
      await new Promise((done) => proxy.close(done));
    }
  });
});

describe("server settings", () => {
  const base = { APP_ID: "12", WEBHOOK_SECRET: "s", PRIVATE_KEY: key.privateKeyPem };

  it("reads the key as PEM, as escaped PEM or as base64, and derives the GHES API URL", () => {
    const escaped = readServerSettings({
      ...base,
      PRIVATE_KEY: key.privateKeyPem.replace(/\n/g, "\\n"),
      GHE_HOST: "ghe.example.com:8443",
      KOZMIC_PUBLIC_URL: "https://ci.example.com/kozmic/",
    });
    assert.equal(escaped.privateKey, key.privateKeyPem);
    assert.equal(escaped.baseUrl, "https://ghe.example.com:8443/api/v3");
    assert.equal(escaped.publicUrl, "https://ci.example.com/kozmic");
    assert.equal(escaped.port, 3000);
    const b64 = readServerSettings({
      ...base,
      PRIVATE_KEY: Buffer.from(key.privateKeyPem).toString("base64"),
    });
    assert.equal(b64.privateKey, key.privateKeyPem);
    assert.equal(b64.baseUrl, "https://api.github.com");
  });

  it("runs jobs in the server by default only when the queue is the embedded one", () => {
    assert.equal(readServerSettings(base).embeddedRunner, true);
    const sqs = { ...base, KOZMIC_QUEUE_URL: "http://127.0.0.1:9324/000000000000/jobs" };
    assert.equal(readServerSettings(sqs).embeddedRunner, false);
    assert.equal(
      readServerSettings({ ...sqs, KOZMIC_EMBEDDED_RUNNER: "true" }).embeddedRunner,
      true,
    );
    assert.equal(
      readServerSettings({ ...base, KOZMIC_EMBEDDED_RUNNER: "false" }).embeddedRunner,
      false,
    );
  });

  it("names the variable that is wrong", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PRIVATE_KEY: "not a key" }, /^PRIVATE_KEY must be the app's private key: PEM/],
      [{ PORT: "http" }, /^PORT must be a whole number from 0 to 65535, got "http"/],
      [{ PORT: "70000" }, /^PORT must be a whole number from 0 to 65535, got "70000"/],
      [{ GHE_HOST: "https://ghe.example.com" }, /^GHE_HOST must be a host name/],
      [{ KOZMIC_PUBLIC_URL: "ci.example.com" }, /^KOZMIC_PUBLIC_URL must be an http\(s\) URL/],
      [{ APP_ID: "my-app" }, /^APP_ID must be the GitHub App's numeric App ID/],
      [{ WEBHOOK_SECRET: "" }, /^WEBHOOK_SECRET is required/],
      [{ LOG_FORMAT: "xml" }, /^LOG_FORMAT .*"json"/],
      [
        { KOZMIC_EMBEDDED_RUNNER: "yes" },
        /^KOZMIC_EMBEDDED_RUNNER must be "auto", "true" or "false"/,
      ],
    ];
    for (const [vars, message] of cases) {
      assert.throws(
        () => readServerSettings({ ...base, ...vars }),
        (error: Error) => error.name === "SettingsError" && message.test(error.message),
        `${JSON.stringify(vars)} should fail with ${message}`,
      );
    }
  });
});

describe("the Node server's pages", () => {
  it("passes other paths to the pages given to the app, and answers 405 to a GET of the webhook path", async () => {
    const fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 33 });
    const dir = mkdtempSync(join(tmpdir(), "kozmic-handlers-"));
    const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    const planQueue = openEmbeddedQueue({ dataDir: dir, name: "plans", kind: PLAN_MESSAGES });
    const store = openEmbeddedStore({ dataDir: dir });
    const app = await startApp({
      fake,
      appKey: key,
      queue,
      planQueue,
      store,
      pagesFor: () => ({
        app: new Hono().get("/jobs/:id", (c) => c.text(`log of ${c.req.param("id")}`)),
        close: () => {},
      }),
    });
    try {
      const page = await fetch(`${app.url}/jobs/abc`);
      assert.equal(page.status, 200);
      assert.equal(await page.text(), "log of abc");
      assert.equal((await fetch(`${app.url}/nothing-here`)).status, 404);
      const get = await fetch(app.webhookUrl);
      assert.equal(get.status, 405, "GET on the webhook path");
      assert.equal(get.headers.get("allow"), "POST");
    } finally {
      await app.stop();
      await fake.close();
      await queue.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
