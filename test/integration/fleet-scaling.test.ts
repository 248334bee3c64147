import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  type Activity,
  type UpdateAutoScalingGroupCommandInput,
} from "@aws-sdk/client-auto-scaling";
import {
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { bundleLambda } from "../../scripts/bundle-lambda.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { ON_DEMAND_TAG, scaleFleet, SURPLUS_TAG } from "../../src/scaler/scale-fleet.js";
import type { ScalerSettings } from "../../src/settings/scaler-settings.js";
import { MotoServer } from "../support/moto-server.js";
import { testServices } from "../support/services.js";

const MINUTE = 60_000;
const execFileAsync = promisify(execFile);

/**
 * The scaler against a simulated fleet: moto's Auto Scaling API for the runner group and
 * ElasticMQ for the job queue. The clock is the test's, so the idle time takes no time.
 */
describe("the scaler sizes the runner group by the job queue", () => {
  const services = testServices();
  const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
  let moto: MotoServer;
  let autoScaling: AutoScalingClient;
  let settings: ScalerSettings;
  let now = Date.parse("2026-12-07T03:00:00Z");

  before(async () => {
    moto = await MotoServer.start();
    autoScaling = new AutoScalingClient({
      endpoint: moto.url,
      region: "eu-west-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const groupName = `kozmic-fleet-${Date.now()}`;
    await autoScaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: `${groupName}-lc`,
        ImageId: "ami-12c6146b",
        InstanceType: "m7i.large",
      }),
    );
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        LaunchConfigurationName: `${groupName}-lc`,
        AvailabilityZones: ["eu-west-1a"],
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 0,
      }),
    );
    const { queueUrl } = await ensureSqsQueues(sqs, uniqueQueueName("fleet"), 5);
    settings = { queueUrl, groupName, slotsPerHost: 2, idleMs: 10 * MINUTE };
  });

  after(async () => {
    autoScaling?.destroy();
    sqs.destroy();
    await moto?.stop();
  });

  const tick = () => scaleFleet({ sqs, autoScaling, settings, now: () => now });
  async function group() {
    const { AutoScalingGroups } = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [settings.groupName] }),
    );
    const g = AutoScalingGroups![0]!;
    return {
      desired: g.DesiredCapacity,
      hosts: g.Instances?.length ?? 0,
      surplusSince: g.Tags?.find((t) => t.Key === SURPLUS_TAG)?.Value,
    };
  }
  async function sendJobs(count: number, delaySeconds = 0) {
    for (let i = 0; i < count; i += 10) {
      const entries = Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
        Id: String(j),
        MessageBody: JSON.stringify({ job: i + j }),
        DelaySeconds: delaySeconds,
      }));
      await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: settings.queueUrl, Entries: entries }),
      );
    }
  }
  /** Receives up to `count` messages, as runners do: they stay in flight until deleted. */
  async function receive(count: number): Promise<string[]> {
    const receipts: string[] = [];
    while (receipts.length < count) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: settings.queueUrl,
          MaxNumberOfMessages: Math.min(10, count - receipts.length),
          VisibilityTimeout: 600,
          WaitTimeSeconds: 1,
        }),
      );
      if (Messages.length === 0) break;
      receipts.push(...Messages.map((m) => m.ReceiptHandle!));
    }
    return receipts;
  }
  const finish = async (receipts: string[]) => {
    for (const ReceiptHandle of receipts) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: settings.queueUrl, ReceiptHandle }));
    }
  };

  it("0 → N hosts for a burst, capped at the maximum, and back to 0 after the idle time", async () => {
    const idle = await tick();
    assert.equal(idle.changed, false);
    assert.deepEqual(await group(), { desired: 0, hosts: 0, surplusSince: undefined });

    // A push: 6 jobs now and one retry in backoff (delayed for longer than this test), 2
    // slots per host.
    await sendJobs(6);
    await sendJobs(1, 900);
    const burst = await tick();
    assert.equal(burst.changed, true, burst.reason);
    assert.deepEqual((await group()).desired, 4);
    assert.equal((await group()).hosts, 4, "moto started the hosts");

    // Hosts booting: the next run asks for no more for the same jobs.
    now += MINUTE;
    assert.equal((await tick()).changed, false);

    // A bigger burst stops at the group's maximum.
    await sendJobs(20);
    now += MINUTE;
    const capped = await tick();
    assert.match(capped.reason, /capped at the maximum 5/);
    assert.equal((await group()).desired, 5);

    // Runners take 3 jobs and the rest are done: 3 running need 2 hosts, but the surplus
    // is kept for the idle time (a next push finds the hosts warm).
    const running = await receive(3);
    assert.equal(running.length, 3);
    await finish(await receive(100));
    now += MINUTE;
    const quiet = await tick();
    assert.equal(quiet.view.running, 3);
    assert.deepEqual(await group(), {
      desired: 5,
      hosts: 5,
      surplusSince: new Date(now).toISOString(),
    });
    now += 9 * MINUTE;
    assert.equal((await tick()).changed, false);
    now += MINUTE;
    const shrunk = await tick();
    assert.equal(shrunk.changed, true, shrunk.reason);
    assert.deepEqual(await group(), { desired: 2, hosts: 2, surplusSince: undefined });

    // The running jobs end; the retry in backoff still keeps one host.
    await finish(running);
    now += MINUTE;
    await tick();
    assert.equal((await group()).desired, 2);
    now += 10 * MINUTE;
    const retry = await tick();
    assert.match(retry.reason, /1 job\(s\) \(1 waiting, 0 running\).*need 1 host/);
    assert.equal((await group()).desired, 1);

    // No job left at all: ten idle minutes later the fleet is gone.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: settings.queueUrl }));
    now += MINUTE;
    await tick();
    assert.equal((await group()).desired, 1);
    now += 10 * MINUTE;
    const gone = await tick();
    assert.match(gone.reason, /0 job\(s\).*need 0 host/);
    assert.deepEqual(await group(), { desired: 0, hosts: 0, surplusSince: undefined });
  });

  it("spot launches that find no capacity: the group runs on-demand, and spot again 30 minutes after the last", async () => {
    // Two things moto does not model (docs/aws.md, "Checked against moto"): it launches every
    // host and records no failed launch, so the failed spot launch EC2 Auto Scaling would
    // report is added to its (empty) DescribeScalingActivities answer; and it needs the
    // launch template in every mixed instances policy update, where AWS keeps the group's
    // own when an update gives only the distribution (as the scaler does).
    const failed: Activity[] = [];
    autoScaling.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UpdateAutoScalingGroupCommand") {
          const input = args.input as UpdateAutoScalingGroupCommandInput;
          input.MixedInstancesPolicy = {
            ...input.MixedInstancesPolicy,
            LaunchTemplate: {
              LaunchTemplateSpecification: { LaunchTemplateName: `${spotGroup}-lt` },
              Overrides: [{ InstanceType: "m7i.large" }, { InstanceType: "m6i.large" }],
            },
          };
        }
        const result = await next(args);
        if (context.commandName === "DescribeScalingActivitiesCommand") {
          (result.output as { Activities?: Activity[] }).Activities = [...failed];
        }
        return result;
      },
      { step: "initialize", name: "spotShortage" },
    );
    const spotGroup = `${settings.groupName}-spot`;
    // EC2's query API on moto: a launch template for the group's mixed instances policy.
    const template = await fetch(moto.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        // moto reads the region from the credential scope (it checks no signature).
        authorization:
          "AWS4-HMAC-SHA256 Credential=test/20261207/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: new URLSearchParams({
        Action: "CreateLaunchTemplate",
        Version: "2016-11-15",
        LaunchTemplateName: `${spotGroup}-lt`,
        "LaunchTemplateData.ImageId": "ami-12c6146b",
      }),
    });
    assert.equal(template.status, 200, await template.text());
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: spotGroup,
        AvailabilityZones: ["eu-west-1a"],
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 0,
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: { LaunchTemplateName: `${spotGroup}-lt` },
            Overrides: [{ InstanceType: "m7i.large" }, { InstanceType: "m6i.large" }],
          },
          InstancesDistribution: {
            OnDemandBaseCapacity: 0,
            OnDemandPercentageAboveBaseCapacity: 0,
            SpotAllocationStrategy: "price-capacity-optimized",
          },
        },
      }),
    );
    const spotSettings = { ...settings, groupName: spotGroup, onDemandPercent: 0 };
    const spotTick = () => scaleFleet({ sqs, autoScaling, settings: spotSettings, now: () => now });
    const distribution = async () => {
      const { AutoScalingGroups } = await autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [spotGroup] }),
      );
      const g = AutoScalingGroups![0]!;
      return {
        onDemand:
          g.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity,
        until: g.Tags?.find((t) => t.Key === ON_DEMAND_TAG)?.Value,
      };
    };
    try {
      const calm = await spotTick();
      assert.equal(calm.spot?.changed, false);
      assert.deepEqual(await distribution(), { onDemand: 0, until: undefined });

      failed.push({
        ActivityId: "a1",
        AutoScalingGroupName: spotGroup,
        Cause: "a user request update of AutoScalingGroup constraints",
        StartTime: new Date(now - MINUTE),
        StatusCode: "Failed",
        Progress: 100,
        StatusMessage:
          "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.",
      });
      const short = await spotTick();
      assert.equal(short.spot?.changed, true, short.spot?.reason);
      assert.match(short.spot!.reason, /spot capacity short/);
      const until = new Date(now - MINUTE + 30 * MINUTE).toISOString();
      assert.deepEqual(await distribution(), { onDemand: 100, until });

      // The failed launch ages out of the answer; the tag keeps the group on-demand.
      failed.length = 0;
      now += 20 * MINUTE;
      assert.equal((await spotTick()).spot?.changed, false);
      assert.deepEqual(await distribution(), { onDemand: 100, until });

      now += 10 * MINUTE;
      const back = await spotTick();
      assert.equal(back.spot?.changed, true);
      assert.match(back.spot!.reason, /back to 0 % on-demand/);
      assert.deepEqual(await distribution(), { onDemand: 0, until: undefined });
    } finally {
      autoScaling.middlewareStack.remove("spotShortage");
    }
  });

  it("the scaler's Lambda bundle does the same from its function's environment", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "kozmic-scaler-bundle-"));
    try {
      const bundles = await bundleLambda(outDir);
      const scaler = bundles.find((b) => b.name === "scaler")!;
      await sendJobs(3);
      const run = await execFileAsync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const { scaleHandler } = await import(${JSON.stringify(pathToFileURL(scaler.file).href)});
           process.stdout.write("\\nresult " + JSON.stringify(await scaleHandler()));`,
        ],
        {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: "eu-west-1",
            AWS_ACCESS_KEY_ID: "test",
            AWS_SECRET_ACCESS_KEY: "test",
            AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
            AWS_ENDPOINT_URL_AUTO_SCALING: moto.url,
            KOZMIC_QUEUE_URL: settings.queueUrl,
            KOZMIC_AUTO_SCALING_GROUP: settings.groupName,
            KOZMIC_RUNNER_CONCURRENCY: "2",
            KOZMIC_IDLE_MINUTES: "10",
          },
        },
      );
      const [logged, returned] = run.stdout.split("\nresult ");
      const result = JSON.parse(returned!) as { desired: number; reason: string };
      assert.equal(result.desired, 2, result.reason);
      assert.match(logged!, /^\{"msg":"scaled",.*"desired":2/, "one JSON log line per run");
      assert.equal((await group()).desired, 2);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
