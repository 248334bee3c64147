import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AwsFaultProxy,
  DYNAMODB_THROTTLING,
  SQS_SERVER_ERRORS,
  type ProxiedCall,
} from "../support/aws-fault-proxy.js";
import { awsBackend, FleetScene, type FleetBackend } from "../support/fleet.js";
import { testServices } from "../support/services.js";

const RUNNERS = 5;
const JOBS = 20;
/** Of the requests to DynamoDB and to SQS, the share answered with an error. */
const SHARE = 0.2;
/** The SDK's attempts per call (its default). */
const MAX_ATTEMPTS = 3;
/** Deliveries of one message before the queue dead-letters it (the backend's queue). */
const MAX_RECEIVES = 5;

const settings = { leaseMs: 5_000, heartbeatMs: 1_000, cancelPollMs: 2_000 };
/** Long polls repeat while runners wait, however many jobs there are: not counted per job. */
const perJob = (call: ProxiedCall) => call.target !== "AmazonSQS.ReceiveMessage";

/**
 * DynamoDB throttling (ProvisionedThroughputExceededException, ThrottlingException) and
 * SQS 500/503 answered by a proxy in front of DynamoDB Local and ElasticMQ, for a share of
 * all requests, a call's last attempt included: the AWS SDK's own retries run, and now and
 * then a call fails past them, so the runner's own retries run too (a failed claim, lease
 * check or end record tried again, never the job given back once it ran: before that, about
 * one run in three of this test ran a job twice).
 * Expected: every job still runs, is claimed and is reported exactly once; no request goes
 * beyond the SDK's attempts; and the requests a job causes stay within what the retry
 * policy allows (no retry storm).
 */
describe("a fleet under DynamoDB throttling and SQS 5xx", () => {
  let dynamodb: AwsFaultProxy;
  let sqs: AwsFaultProxy;
  let backend: FleetBackend;
  let scene: FleetScene;

  before(async () => {
    const services = testServices();
    dynamodb = await AwsFaultProxy.start(services.dynamodbEndpoint, DYNAMODB_THROTTLING, 0);
    sqs = await AwsFaultProxy.start(services.sqsEndpoint, SQS_SERVER_ERRORS, 0);
    backend = await awsBackend(services, {
      endpoints: { dynamodb: dynamodb.url, sqs: sqs.url },
      maxAttempts: MAX_ATTEMPTS,
    });
    scene = await FleetScene.start([1]);
  });
  after(async () => {
    await scene?.close();
    await backend?.close();
    await dynamodb?.close();
    await sqs?.close();
  });

  /** Runs `JOBS` jobs through `RUNNERS` runners with `share` of requests failed; their requests. */
  async function drain(share: number): Promise<{ ids: string[]; calls: ProxiedCall[] }> {
    // One job a build: a build's end reads all its jobs again (dynamodb-jobs.ts),
    // calls that would swamp the count of the job's own.
    const ids = await scene.enqueue(backend, JOBS, 1, 1);
    const from = { dynamodb: dynamodb.calls.length, sqs: sqs.calls.length };
    dynamodb.share = share;
    sqs.share = share;
    scene.startRunners(backend, RUNNERS, { settings });
    await scene.untilCompleted(ids, 120_000);
    await scene.stopRunners();
    dynamodb.share = 0;
    sqs.share = 0;
    return {
      ids,
      calls: [...dynamodb.calls.slice(from.dynamodb), ...sqs.calls.slice(from.sqs)],
    };
  }

  it("jobs slow down but none is lost or doubled, and no retry storm", async (t) => {
    const baseline = await drain(0);
    const baselineFirstTries = baseline.calls.filter((c) => perJob(c) && c.attempt === 1).length;
    const faulted = await drain(SHARE);

    const tally = scene.tally(faulted.ids);
    for (const line of scene.warnings) t.diagnostic(line);
    assert.deepEqual(tally.notRunOnce, [], "jobs whose build ran other than once");
    assert.deepEqual(tally.notClaimedOnce, [], "jobs whose claim was won other than once");
    assert.deepEqual(tally.notReportedOnce, [], "jobs not created and completed exactly once");
    for (const id of faulted.ids) {
      const job = await backend.store.getJob(id);
      assert.equal(job?.status, "completed", id);
      assert.ok(job?.reportedAt !== undefined, `${id} is recorded as reported`);
    }
    assert.deepEqual(await backend.queue.receiveDeadLetters(10), [], "nothing dead-lettered");

    const calls = faulted.calls;
    const failed = calls.filter((c) => c.failed);
    const retries = calls.filter((c) => c.attempt > 1);
    t.diagnostic(
      `baseline: ${baseline.calls.length} requests; under faults: ${calls.length} requests, ` +
        `${failed.length} answered with an error, ${retries.length} SDK retries, ` +
        `first tries per job ${(calls.filter((c) => perJob(c) && c.attempt === 1).length / JOBS).toFixed(1)} ` +
        `(baseline ${(baselineFirstTries / JOBS).toFixed(1)})`,
    );
    assert.ok(
      failed.some((c) => c.target.startsWith("DynamoDB_")),
      "DynamoDB was throttled",
    );
    assert.ok(
      failed.some((c) => c.target.startsWith("AmazonSQS.")),
      "SQS answered 5xx",
    );
    assert.ok(retries.length > 0, "the SDK retried");
    // The SDK never goes past its attempts: each request is one of a call's MAX_ATTEMPTS.
    assert.equal(calls.filter((c) => c.attempt > MAX_ATTEMPTS).length, 0);
    assert.ok(calls.length <= MAX_ATTEMPTS * calls.filter((c) => c.attempt === 1).length);
    // A job's life runs at most MAX_RECEIVES times (then the queue gives up on it), each no
    // more calls than a whole life without faults: the runner's own retries add no storm.
    const firstTries = calls.filter((c) => perJob(c) && c.attempt === 1).length;
    assert.ok(
      firstTries <= MAX_RECEIVES * baselineFirstTries,
      `${firstTries} calls for ${JOBS} jobs, more than ${MAX_RECEIVES} x the baseline's ${baselineFirstTries}`,
    );
  });
});
