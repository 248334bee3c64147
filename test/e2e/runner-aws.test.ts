import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { ensureDynamoTable, openDynamoStore } from "../../src/store/dynamodb-store.js";
import { testServices } from "../support/services.js";
import { hooksYml, RunnerHarness } from "./runner-harness.js";

describe("runner end to end on SQS (ElasticMQ) and DynamoDB (DynamoDB Local)", () => {
  const services = testServices();
  const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
  const dynamo = new DynamoDBClient({
    endpoint: services.dynamodbEndpoint,
    region: services.region,
  });
  let h: RunnerHarness;
  before(async () => {
    const name = uniqueQueueName("runner-e2e");
    const urls = await ensureSqsQueues(sqs, name, 5);
    const planUrls = await ensureSqsQueues(sqs, `${name}-plans`, PLAN_MAX_RECEIVES);
    const table = `runner-e2e-${randomUUID()}`;
    await ensureDynamoTable(dynamo, table);
    h = await RunnerHarness.start({
      queue: openSqsQueue({ ...urls, client: sqs, log: () => {} }),
      planQueue: openSqsQueue({ ...planUrls, client: sqs, kind: PLAN_MESSAGES, log: () => {} }),
      store: openDynamoStore({ table, client: dynamo }),
    });
    h.startRunner({ name: `aws-a-${randomUUID().slice(0, 6)}`, concurrency: 2 });
    h.startRunner({ name: `aws-b-${randomUUID().slice(0, 6)}`, concurrency: 1 });
  });
  after(async () => {
    assert.deepEqual(h.fake.violations, []);
    await h.stop();
    sqs.destroy();
    dynamo.destroy();
  });

  it("runs every job once with the right conclusion, summary and stored log", async () => {
    const { git, target } = h.repository();
    const yml =
      hooksYml({ name: "pass", build: "echo passing" }) +
      hooksYml({ name: "fail", build: "echo failing\nexit 4" }).replace("hooks:\n", "") +
      hooksYml({
        name: "cached",
        install: "echo installing\ncp deps /opt/deps",
        build: "cat /opt/deps",
        tracked: ["deps"],
      }).replace("hooks:\n", "");
    const first = git.commit({ ".github/kozmic.yml": yml, deps: "dep 1\n" });
    await h.push(target, first);
    const pass = await h.completed(target, first, "pass");
    const fail = await h.completed(target, first, "fail");
    const cached = await h.completed(target, first, "cached");
    assert.equal(pass.conclusion, "success");
    assert.equal(fail.conclusion, "failure");
    assert.equal(fail.output.title, "Failed with exit code 4");
    assert.equal(cached.conclusion, "success");
    assert.match(cached.output.summary ?? "", /Install cache: \*\*miss\*\*/);

    const second = git.commit({ ".github/kozmic.yml": yml, deps: "dep 1\n", README: "x\n" });
    await h.push(target, second);
    const hit = await h.completed(target, second, "cached");
    assert.match(hit.output.summary ?? "", /Install cache: \*\*hit\*\*/);

    for (const sha of [first, second]) {
      const [build] = await h.store.findBuildsByCommit(target.id, sha);
      for (const job of await h.store.listJobs(build!.id)) {
        const run = await h.completed(target, sha, job.hook);
        assert.equal(run.updates.filter((u) => u.conclusion !== undefined).length, 1);
        const log = await h.logOf(job.id);
        assert.equal(log.split("==> runner ").length - 1, 1, `${job.hook} picked up once`);
        assert.equal((await h.store.getJob(job.id))?.status, "completed");
      }
    }
  });

  it("cancel reaches a running job through DynamoDB", async () => {
    const { git, target } = h.repository();
    const sha = git.commit({
      ".github/kozmic.yml": hooksYml({ build: "echo started\nsleep 120" }),
    });
    await h.push(target, sha);
    const [build] = await h.store.findBuildsByCommit(target.id, sha);
    const [job] = await h.store.listJobs(build!.id);
    await h.waitFor("the build to start", async () =>
      (await h.logOf(job!.id)).includes("started\n") ? true : undefined,
    );
    await h.store.requestCancel(job!.id, "superseded by a newer push");
    const run = await h.completed(target, sha, "test", 120_000);
    assert.equal(run.conclusion, "cancelled");
    assert.match(run.output.summary ?? "", /superseded by a newer push/);
  });
});
