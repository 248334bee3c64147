import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ensureSqsQueues, openSqsQueue, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import type { Queue } from "../../src/queue/port.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import { FakeEc2Host } from "../support/fake-ec2-host.js";
import { FakeGitHub, generateAppKey } from "../support/fake-github/index.js";
import { attachGitHttp, type FakeGitHttp } from "../support/fake-github/git-http.js";
import { planPush } from "../support/git-plan.js";
import { createGitRepo, type GitRepo } from "../support/git-repos.js";
import { ensureBusyboxImage } from "../support/images.js";
import { kozmicArgv } from "../support/kozmic-cli.js";
import { testServices } from "../support/services.js";
import { hooksYml, removeContainersOf, RUNNER_IMAGE } from "./runner-harness.js";

const GROUP = "kozmic-test-runners";
const HOOK = "kozmic-drain";

/**
 * A runner host chosen for scale-in (or taken back as spot) drains without losing a job:
 * real `kozmic runner` processes on ElasticMQ, the fake GitHub, and a fake EC2 host (its
 * instance metadata and CompleteLifecycleAction) on 127.0.0.1.
 */
describe("kozmic runner on a host that is leaving", () => {
  const services = testServices();
  const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
  const key = generateAppKey();
  const names: string[] = [];
  const started: { stderr: () => string }[] = [];
  let fake: FakeGitHub;
  let http: FakeGitHttp;
  let git: GitRepo;
  let repository: { id: number; fullName: string; cloneUrl: string; private: boolean };
  let queue: Queue;
  let queueUrl: string;
  let store: Store;
  let dir: string;

  before(async () => {
    ensureBusyboxImage(RUNNER_IMAGE);
    fake = await FakeGitHub.start({ appPublicKey: key.publicKeyPem, appId: 41, enterprise: true });
    http = attachGitHttp(fake);
    const fullName = `fleet/drain-${Date.now()}`;
    const record = fake.addRepository({ fullName, installationId: 5, private: true });
    record.id = 30_000_000 + Math.floor(Math.random() * 1e9);
    git = createGitRepo(fake, http, fullName);
    repository = {
      id: record.id,
      fullName,
      cloneUrl: `${fake.origin}/${fullName}.git`,
      private: true,
    };
    const name = uniqueQueueName("drain");
    const urls = await ensureSqsQueues(sqs, name, 5);
    await ensureSqsQueues(sqs, `${name}-plans`, PLAN_MAX_RECEIVES);
    queueUrl = urls.queueUrl;
    queue = openSqsQueue({ ...urls, client: sqs, log: () => {} });
    dir = mkdtempSync(join(tmpdir(), "kozmic-drain-"));
    store = openEmbeddedStore({ dataDir: dir });
  });

  after(async () => {
    for (const name of names) removeContainersOf(name);
    await store.close();
    http.close();
    await fake.close();
    sqs.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `kozmic runner` itself, on an EC2 host (`host`) unless none is given. */
  function runnerOn(host: FakeEc2Host | undefined, env: Record<string, string> = {}) {
    const name = `drain-${names.length}-${repository.id}`;
    names.push(name);
    const child = spawn(process.execPath, kozmicArgv(["runner"]), {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ID: "41",
        PRIVATE_KEY: key.privateKeyPem,
        GHE_HOST: fake.host,
        GHE_PROTOCOL: "http",
        KOZMIC_DATA_DIR: dir,
        KOZMIC_RUNNER_NAME: name,
        KOZMIC_RUNNER_CONCURRENCY: "1",
        KOZMIC_PUBLIC_URL: "https://ci.example.com",
        KOZMIC_QUEUE_URL: queueUrl,
        KOZMIC_MAX_RECEIVES: "5",
        AWS_REGION: services.region,
        AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        ...(host
          ? {
              KOZMIC_AUTO_SCALING_GROUP: GROUP,
              KOZMIC_LIFECYCLE_HOOK: HOOK,
              KOZMIC_INSTANCE_METADATA_URL: host.metadataUrl,
              KOZMIC_INSTANCE_METADATA_POLL: "1s",
              AWS_ENDPOINT_URL_AUTO_SCALING: host.autoScalingUrl,
            }
          : {}),
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const started_ = { child, exited, stderr: () => text };
    started.push(started_);
    return started_;
  }

  async function push(build: string): Promise<string> {
    const config = hooksYml({ build });
    const sha = git.commit({ ".github/kozmic.yml": config, stamp: `${Math.random()}\n` });
    const { jobIds } = await planPush({
      fake,
      privateKey: key.privateKeyPem,
      queue,
      store,
      repository,
      installationId: 5,
      sha,
      config,
    });
    return jobIds[0]!;
  }

  const logOf = async (jobId: string) => (await store.readLog(jobId)).map((c) => c.data).join("");

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined) {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        const said = started.map((r, i) => `runner ${i}:\n${r.stderr().slice(-3000)}`);
        throw new Error(`timed out waiting for ${what}\n${said.join("\n")}`);
      }
      await sleep(100);
    }
  }

  it("scale-in: takes no new job, finishes the running one, then completes the lifecycle action; a job handed back on a spot notice runs elsewhere", async () => {
    const host = await FakeEc2Host.start();
    const leaving = runnerOn(host);
    const spotHost = await FakeEc2Host.start();
    let spot: ReturnType<typeof runnerOn> | undefined;
    let other: ReturnType<typeof runnerOn> | undefined;
    try {
      const first = await push("echo started\nsleep 4\necho finished-on-a-leaving-host");
      await waitFor("the first job to start", async () =>
        (await logOf(first)).includes("started\n") ? true : undefined,
      );
      // Busy: the host asks to be left out of scale-in (it said so at start, idle).
      await waitFor("scale-in protection", () =>
        host.protections.some((p) => p.protected) ? true : undefined,
      );
      assert.deepEqual(
        host.protections.map((p) => p.protected),
        [false, true],
      );
      assert.deepEqual(host.protections[1]!.fields, {
        Action: "SetInstanceProtection",
        Version: "2011-01-01",
        AutoScalingGroupName: GROUP,
        "InstanceIds.member.1": host.instanceId,
        ProtectedFromScaleIn: "true",
      });
      host.lifecycleState = "Terminated";
      await waitFor("the runner to see its host leaving", () =>
        /host leaving: the Auto Scaling group is terminating it/.test(leaving.stderr())
          ? true
          : undefined,
      );
      // Pushed while the host drains: it must not take this one.
      const second = await push("echo started\nsleep 6\necho second-done");

      await waitFor("the lifecycle action", () => (host.completed.length > 0 ? true : undefined));
      const done = await store.getJob(first);
      assert.equal(done?.status, "completed", leaving.stderr());
      assert.equal(done?.conclusion, "success");
      assert.match(await logOf(first), /finished-on-a-leaving-host/);
      assert.ok(done.finishedAt! <= host.completed[0]!.at, "the job ended before the host went");
      assert.deepEqual(host.completed[0]!.fields, {
        Action: "CompleteLifecycleAction",
        Version: "2011-01-01",
        AutoScalingGroupName: GROUP,
        LifecycleHookName: HOOK,
        InstanceId: host.instanceId,
        LifecycleActionResult: "CONTINUE",
      });
      const run = fake.checkRunsOf(repository.fullName).find((r) => r.external_id === first);
      assert.equal(run?.conclusion, "success");
      await waitFor("the drained runner to say it waits", () =>
        /drained; waiting for the host to stop/.test(leaving.stderr()) ? true : undefined,
      );
      assert.equal((await store.getJob(second))?.status, "queued", "the draining runner took it");
      assert.equal(await logOf(second), "");
      assert.deepEqual(host.unauthorised, [], "every metadata read had its IMDSv2 token");

      // A spot host takes the second job; its notice leaves too little time to finish, so
      // the job goes back to the queue and a runner on another host runs it to the end.
      spot = runnerOn(spotHost, { KOZMIC_DRAIN_TIME: "21s" });
      await waitFor("the second job to start on the spot host", async () =>
        (await logOf(second)).includes("started\n") ? true : undefined,
      );
      spotHost.spotAction = {
        action: "terminate",
        time: new Date(Date.now() + 120_000).toISOString(),
      };
      await waitFor("the job handed back", async () =>
        (await store.getJob(second))?.status === "queued" ? true : undefined,
      );
      assert.match(spot.stderr(), /host leaving: spot interruption \(terminate at/);
      assert.match(await logOf(second), /runner shutting down: the job goes back to the queue/);
      await waitFor("the spot host's lifecycle action", () =>
        spotHost.completed.length > 0 ? true : undefined,
      );

      other = runnerOn(undefined);
      await waitFor("the second job to complete elsewhere", async () => {
        const job = await store.getJob(second);
        return job?.status === "completed" ? job : undefined;
      });
      const finished = await store.getJob(second);
      assert.equal(finished?.conclusion, "success");
      const log = await logOf(second);
      assert.match(log, /second-done/);
      assert.match(log, /attempt 2 of 5/);
      // The job's record is final just before its check run is (finishJob's order).
      const secondRun = await waitFor("the second job's check run to complete", () =>
        fake
          .checkRunsOf(repository.fullName)
          .find((r) => r.external_id === second && r.status === "completed"),
      );
      assert.equal(secondRun?.conclusion, "success");
      assert.equal(secondRun?.updates.filter((u) => u.conclusion !== undefined).length, 1);
      assert.deepEqual(fake.violations, []);

      for (const r of [leaving, spot, other]) r.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all([leaving.exited, spot.exited, other.exited]), [0, 0, 0]);
    } finally {
      for (const r of [leaving, spot, other])
        if (r && r.child.exitCode === null) r.child.kill("SIGKILL");
      await host.close();
      await spotHost.close();
    }
  });
});
