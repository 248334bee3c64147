import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ProbotOctokit } from "probot";
import { FakeGitHub, generateAppKey, signAppJwt } from "../support/fake-github/index.js";

const key = generateAppKey();
const SHA = "a".repeat(40);

describe("fake GitHub", () => {
  let fake: FakeGitHub;
  let token: string;

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 42 });
    fake.addRepository({ fullName: "acme/widgets", installationId: 7, private: true });
    fake.addCommit("acme/widgets", SHA, { ".github/kozmic.yml": "hooks: []\n" }, "main");
    fake.addRepository({ fullName: "other/secret", installationId: 8 });
  });
  after(() => fake.close());
  beforeEach(async () => {
    fake.violations.length = 0;
    const res = await call("POST", "/app/installations/7/access_tokens", {
      jwt: signAppJwt(42, key.privateKeyPem),
    });
    assert.equal(res.status, 201);
    token = ((await res.json()) as { token: string }).token;
  });

  async function call(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; jwt?: string; token?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.jwt) headers.authorization = `Bearer ${opts.jwt}`;
    const t = opts.token ?? (opts.jwt ? undefined : token);
    if (t) headers.authorization = `token ${t}`;
    return fetch(fake.url + path, {
      method,
      headers,
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
  }

  it("serves a real Octokit with app auth: token, contents at a ref, check runs", async () => {
    const octokit = new ProbotOctokit({
      auth: { appId: 42, privateKey: key.privateKeyPem, installationId: 7 },
      baseUrl: fake.url,
    });
    const { data: file } = await octokit.rest.repos.getContent({
      owner: "acme",
      repo: "widgets",
      path: ".github/kozmic.yml",
      ref: SHA,
    });
    assert.ok(!Array.isArray(file) && file.type === "file");
    assert.equal(Buffer.from(file.content, "base64").toString(), "hooks: []\n");

    const { data: created } = await octokit.rest.checks.create({
      owner: "acme",
      repo: "widgets",
      name: "test",
      head_sha: SHA,
      status: "queued",
      external_id: "job-1",
    });
    await octokit.rest.checks.update({
      owner: "acme",
      repo: "widgets",
      check_run_id: created.id,
      conclusion: "success",
      output: { title: "Passed", summary: "all good" },
    });
    const { data: got } = await octokit.rest.checks.get({
      owner: "acme",
      repo: "widgets",
      check_run_id: created.id,
    });
    assert.equal(got.status, "completed");
    assert.equal(got.conclusion, "success");
    const { data: list } = await octokit.rest.checks.listForRef({
      owner: "acme",
      repo: "widgets",
      ref: SHA,
    });
    assert.equal(list.total_count, 1);
    assert.equal(list.check_runs[0]?.external_id, "job-1");
    const { data: repo } = await octokit.rest.repos.get({ owner: "acme", repo: "widgets" });
    assert.equal(repo.private, true);
    assert.deepEqual(fake.violations, []);
  });

  it("reads files at the requested commit, and 404s for a missing file or ref", async () => {
    const other = "b".repeat(40);
    fake.addCommit("acme/widgets", other, { "README.md": "hi" });
    const atOther = await call(
      "GET",
      `/repos/acme/widgets/contents/.github/kozmic.yml?ref=${other}`,
    );
    assert.equal(atOther.status, 404);
    const atBranch = await call("GET", "/repos/acme/widgets/contents/.github/kozmic.yml?ref=main");
    assert.equal(atBranch.status, 200);
    assert.deepEqual(fake.violations, []);
  });

  it("rejects and records a path GitHub's API does not have", async () => {
    const res = await call("GET", "/repos/acme/widgets/no-such-thing");
    assert.equal(res.status, 404);
    assert.equal(fake.violations.length, 1);
    assert.match(fake.violations[0]!.errors[0]!, /not a path of GitHub's API description/);
  });

  it("rejects and records a method the path does not have", async () => {
    const res = await call("DELETE", "/repos/acme/widgets/check-runs/1");
    assert.equal(res.status, 404);
    assert.match(fake.violations[0]!.errors[0]!, /DELETE is not an operation/);
  });

  it("rejects and records a body missing a required field", async () => {
    const before = fake.checkRuns.length;
    const res = await call("POST", "/repos/acme/widgets/check-runs", { body: { name: "x" } });
    assert.equal(res.status, 422);
    assert.equal(fake.violations[0]?.operationId, "checks/create");
    assert.deepEqual(fake.violations[0]?.errors, ["body must have required property 'head_sha'"]);
    assert.equal(fake.checkRuns.length, before);
  });

  it("rejects a body that breaks the schema: bad enum, too many annotations, text too long", async () => {
    const annotation = {
      path: ".github/kozmic.yml",
      start_line: 1,
      end_line: 1,
      annotation_level: "failure",
      message: "m",
    };
    const res = await call("POST", "/repos/acme/widgets/check-runs", {
      body: {
        name: "x",
        head_sha: SHA,
        status: "sleeping",
        output: {
          title: "t",
          summary: "s",
          text: "x".repeat(65_536),
          annotations: Array(51).fill(annotation),
        },
      },
    });
    assert.equal(res.status, 422);
    const errors = fake.violations[0]!.errors.join("\n");
    assert.match(errors, /body\.status must be equal to one of the allowed values/);
    assert.match(errors, /annotations must NOT have more than 50 items/);
    assert.match(errors, /text must NOT have more than 65535 characters/);
  });

  it("rejects a bad path parameter and malformed JSON", async () => {
    assert.equal((await call("GET", "/repos/acme/widgets/check-runs/abc")).status, 422);
    assert.match(fake.violations[0]!.errors[0]!, /"check_run_id" must be integer/);
    const res = await call("POST", "/repos/acme/widgets/check-runs", { rawBody: "{not json" });
    assert.equal(res.status, 400);
    assert.equal(fake.violations.length, 2);
  });

  it("enforces GitHub's rule that a completed check run needs a conclusion", async () => {
    const res = await call("POST", "/repos/acme/widgets/check-runs", {
      body: { name: "x", head_sha: SHA, status: "completed" },
    });
    assert.equal(res.status, 422);
    assert.match(fake.violations[0]!.errors[0]!, /conclusion is required/);
  });

  it("refuses bad credentials and other installations' repositories", async () => {
    assert.equal((await call("GET", "/repos/acme/widgets", { token: "ghs_wrong" })).status, 401);
    assert.equal((await call("GET", "/repos/other/secret")).status, 404);
    const forged = signAppJwt(42, generateAppKey().privateKeyPem);
    assert.equal(
      (await call("POST", "/app/installations/7/access_tokens", { jwt: forged })).status,
      401,
    );
    assert.equal((await call("GET", "/app")).status, 401);
    assert.deepEqual(fake.violations, []);
  });

  it("fails the next N requests with 502, then serves again", async () => {
    fake.failNext(2);
    assert.equal((await call("GET", "/repos/acme/widgets")).status, 502);
    assert.equal((await call("GET", "/repos/acme/widgets")).status, 502);
    assert.equal((await call("GET", "/repos/acme/widgets")).status, 200);
  });

  it("answers a secondary rate limit with retry-after, which Octokit's throttling retries", async () => {
    fake.rateLimitNext(1, 0);
    const limited = await call("GET", "/repos/acme/widgets");
    assert.equal(limited.status, 403);
    assert.equal(limited.headers.get("retry-after"), "0");
    assert.match(((await limited.json()) as { message: string }).message, /secondary rate limit/);

    let throttled = 0;
    const octokit = new ProbotOctokit({
      auth: { appId: 42, privateKey: key.privateKeyPem, installationId: 7 },
      baseUrl: fake.url,
      throttle: {
        enabled: true,
        // One millisecond per retry-after second, so the retry is immediate in tests.
        retryAfterBaseValue: 1,
        onRateLimit: () => true,
        onSecondaryRateLimit: () => {
          throttled += 1;
          return true;
        },
      },
    });
    fake.rateLimitNext(1, 2);
    const { data } = await octokit.rest.repos.get({ owner: "acme", repo: "widgets" });
    assert.equal(data.full_name, "acme/widgets");
    assert.equal(throttled, 1);
  });

  it("answers a primary rate limit with X-RateLimit headers, which Octokit waits out until the reset", async () => {
    fake.rateLimitNext(1, 1, { primary: true, match: { method: "POST" } });
    assert.equal((await call("GET", "/repos/acme/widgets")).status, 200, "only POSTs match");
    fake.clearFailures();
    fake.rateLimitNext(1, 1, { primary: true });
    const limited = await call("GET", "/repos/acme/widgets");
    assert.equal(limited.status, 403);
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    const reset = Number(limited.headers.get("x-ratelimit-reset"));
    assert.ok(Math.abs(reset - (Date.now() / 1000 + 1)) <= 2, `reset ${reset}`);
    assert.match(
      ((await limited.json()) as { message: string }).message,
      /API rate limit exceeded/,
    );

    const waits: number[] = [];
    const octokit = new ProbotOctokit({
      auth: { appId: 42, privateKey: key.privateKeyPem, installationId: 7 },
      baseUrl: fake.url,
      throttle: {
        enabled: true,
        retryAfterBaseValue: 1,
        onRateLimit: (retryAfter: number) => {
          waits.push(retryAfter);
          return true;
        },
        onSecondaryRateLimit: () => false,
      },
    });
    fake.rateLimitNext(1, 1, { primary: true, match: { method: "GET" } });
    const { data } = await octokit.rest.repos.get({ owner: "acme", repo: "widgets" });
    assert.equal(data.full_name, "acme/widgets");
    assert.equal(waits.length, 1);
    assert.ok(waits[0]! >= 1 && waits[0]! <= 3, `waited ${waits[0]} s`);
    assert.deepEqual(fake.violations, []);
  });

  it("serves under /api/v3 as GitHub Enterprise Server and checks against the GHES description", async () => {
    const ghes = await FakeGitHub.start({
      appPublicKey: key.publicKeyPem,
      appId: 42,
      enterprise: true,
      description: "ghes-3.17",
    });
    try {
      ghes.addRepository({ fullName: "acme/widgets", installationId: 7 });
      const octokit = new ProbotOctokit({
        auth: { appId: 42, privateKey: key.privateKeyPem, installationId: 7 },
        baseUrl: ghes.url,
      });
      const { data } = await octokit.rest.repos.get({ owner: "acme", repo: "widgets" });
      assert.equal(data.full_name, "acme/widgets");
      assert.ok(ghes.url.endsWith("/api/v3"));
      assert.deepEqual(ghes.violations, []);
    } finally {
      await ghes.close();
    }
  });
});
