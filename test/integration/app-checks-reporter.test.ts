import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { MAX_OUTPUT_CHARS } from "../../src/checks/check-run-output.js";
import { ChecksReporter, CONFIG_CHECK_NAME } from "../../src/checks/checks-reporter.js";
import { createInstallationOctokit } from "../../src/checks/create-installation-octokit.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";

const key = generateAppKey();
const SHA = "e".repeat(40);
const LOG_URL = "https://ci.example.test/jobs/job-1";

describe("checks reporter against the fake GitHub", () => {
  let fake: FakeGitHub;
  let clock = 1_700_000_000_000;
  let reporter: ChecksReporter;

  before(async () => {
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 42 });
    fake.addRepository({ fullName: "acme/widgets", installationId: 7 });
    const octokit = createInstallationOctokit(42, key.privateKeyPem, 7, fake.url, {
      retryAfterBaseValue: 1,
      paceWrites: false,
    });
    reporter = new ChecksReporter(octokit, { progressIntervalMs: 5000, now: () => clock });
  });
  after(() => fake.close());
  afterEach(() => {
    assert.deepEqual(fake.violations, [], "the fake GitHub saw requests outside GitHub's API");
  });

  async function queued(name: string): Promise<number> {
    return reporter.createQueued({
      owner: "acme",
      repo: "widgets",
      name,
      headSha: SHA,
      jobId: `job-${name}`,
      detailsUrl: `${LOG_URL}-${name}`,
    });
  }
  const run = (id: number) => fake.checkRuns.find((r) => r.id === id)!;

  it("walks a check run from queued through progress to a success summary", async () => {
    const id = await queued("test");
    assert.equal(run(id).status, "queued");
    assert.equal(run(id).external_id, "job-test");
    assert.equal(run(id).details_url, `${LOG_URL}-test`);
    assert.equal(run(id).head_sha, SHA);

    const ref = { owner: "acme", repo: "widgets", checkRunId: id };
    await reporter.markInProgress(ref, "installing");
    assert.equal(run(id).status, "in_progress");
    assert.match(run(id).output.title!, /Installing/);
    assert.deepEqual(
      run(id).actions.map((a) => a.identifier),
      ["cancel"],
    );

    const hugeLog = "x".repeat(200_000) + "\nlast line of the log";
    assert.equal(await reporter.progress(ref, "building", hugeLog), true);
    const text = run(id).output.text!;
    assert.ok(text.length <= MAX_OUTPUT_CHARS, `text is ${text.length} characters`);
    assert.match(text, /last line of the log\n```$/);
    assert.match(text, /earlier output cut/);

    const updatesBefore = run(id).updates.length;
    clock += 1000;
    assert.equal(await reporter.progress(ref, "building", "newer"), false);
    assert.equal(run(id).updates.length, updatesBefore, "a throttled update reached GitHub");
    clock += 5000;
    assert.equal(await reporter.progress(ref, "building", "newer still"), true);
    assert.match(run(id).output.text!, /newer still/);

    await reporter.complete(ref, {
      conclusion: "success",
      exitCode: 0,
      durations: { pull: 3, install: 65, build: 12, total: 80 },
      cacheKey: "sha256:abc",
      cacheHit: true,
      logUrl: LOG_URL,
    });
    const done = run(id);
    assert.equal(done.status, "completed");
    assert.equal(done.conclusion, "success");
    assert.equal(done.output.title, "Passed");
    assert.match(done.output.summary!, /\| install \| 1m 5s \|/);
    assert.match(done.output.summary!, /Install cache: \*\*hit\*\* \(key `sha256:abc`\)/);
    assert.match(done.output.summary!, /Exit code: 0/);
    assert.ok(done.output.summary!.includes(`[Full log](${LOG_URL})`));
    assert.deepEqual(done.actions, []);
  });

  it("says which exit code failed a build", async () => {
    const id = await queued("failing");
    await reporter.complete(
      { owner: "acme", repo: "widgets", checkRunId: id },
      { conclusion: "failure", exitCode: 2, logUrl: LOG_URL, cacheKey: "k", cacheHit: false },
      "npm ERR! test failed",
    );
    assert.equal(run(id).conclusion, "failure");
    assert.equal(run(id).output.title, "Failed with exit code 2");
    assert.match(run(id).output.summary!, /\*\*miss\*\*/);
    assert.match(run(id).output.text!, /npm ERR! test failed/);
  });

  it("reports an infrastructure failure without blaming the build", async () => {
    const id = await queued("infra");
    await reporter.completeInfrastructureFailure(
      { owner: "acme", repo: "widgets", checkRunId: id },
      "the Docker daemon stopped answering",
      LOG_URL,
    );
    const done = run(id);
    assert.equal(done.status, "completed");
    assert.equal(done.conclusion, "action_required");
    assert.match(done.output.title!, /infrastructure/i);
    assert.doesNotMatch(done.output.title!, /fail/i);
    assert.match(done.output.summary!, /not a result of your build/);
    assert.match(done.output.summary!, /Docker daemon stopped answering/);
  });

  it("reports every configuration error, annotations 50 per request", async () => {
    const issues = Array.from({ length: 120 }, (_, i) => ({
      message: `hooks[${i}].image: expected a Docker image reference`,
      path: ["hooks", i, "image"],
      line: i + 2,
      column: 12,
    }));
    const id = await reporter.reportConfigurationError({
      owner: "acme",
      repo: "widgets",
      headSha: SHA,
      issues,
    });
    const done = run(id);
    assert.equal(done.name, CONFIG_CHECK_NAME);
    assert.equal(done.status, "completed");
    assert.equal(done.conclusion, "failure");
    assert.equal(done.output.title, "120 configuration errors");
    assert.equal(done.annotations.length, 120);
    assert.equal(done.updates.length, 2, "annotations beyond 50 go in two updates");
    assert.deepEqual(
      done.annotations.map((a) => a.start_line),
      issues.map((i) => i.line),
    );
    assert.equal(done.annotations[0]!.path, ".github/kozmic.yml");
    assert.match(done.output.summary!, /^\.github\/kozmic\.yml:121:12: hooks\[119\]\.image/m);
  });

  it("a completion tried again after a failed annotation batch sends each annotation once", async () => {
    const id = await queued("batches");
    const ref = { owner: "acme", repo: "widgets", checkRunId: id };
    const annotations = Array.from({ length: 120 }, (_, i) => ({
      level: "failure" as const,
      path: "tests/test_app.py",
      startLine: i + 1,
      endLine: i + 1,
      title: `test_${i}`,
      message: `failed ${i}`,
    }));
    const facts = { conclusion: "failure" as const, exitCode: 1, logUrl: LOG_URL, annotations };
    // The second batch is refused (a 422 is not retried by Octokit): the completion throws,
    // with the first 50 on the run, and is tried again as a runner does.
    fake.failNext(1, 422, { method: "PATCH", path: /check-runs/ }, 1);
    await assert.rejects(reporter.complete(ref, facts));
    assert.equal(run(id).annotations.length, 50);
    await reporter.complete(ref, facts);
    const done = run(id);
    assert.equal(done.status, "completed");
    assert.deepEqual(
      done.annotations.map((a) => a.title),
      annotations.map((a) => a.title),
      "every annotation once, in order",
    );
    // A completion retried after it all landed (its answer lost) adds nothing.
    await reporter.complete(ref, facts);
    assert.equal(run(id).annotations.length, 120);
  });

  it("retries GitHub 5xx answers and secondary rate limits", async () => {
    fake.failNext(2);
    const id = await queued("flaky");
    assert.equal(run(id).status, "queued");
    fake.rateLimitNext(1, 1);
    await reporter.markInProgress({ owner: "acme", repo: "widgets", checkRunId: id }, "preparing");
    assert.equal(run(id).status, "in_progress");
    const statuses = fake.requests.slice(-6).map((r) => r.status);
    assert.ok(statuses.includes(502) && statuses.includes(403), `saw ${statuses.join(",")}`);
  });
});
