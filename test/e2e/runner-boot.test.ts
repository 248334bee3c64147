import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { runnerUserData, RUNNER_HEALTH_PORT } from "../../infra/lib/runner-user-data.js";
import { readRunnerArtifact } from "../../infra/lib/runner-artifact.js";
import { bundleRunner } from "../../scripts/bundle-runner.js";
import { ensureSqsQueues, uniqueQueueName } from "../../src/queue/sqs-queue.js";
import { DEFAULT_MAX_RECEIVES } from "../../src/settings/shared-variables.js";
import { PLAN_MAX_RECEIVES } from "../../src/settings/storage-settings.js";
import { ensureDynamoTable } from "../../src/store/dynamodb-store.js";
import { DEBIAN_SUDO_IMAGE, ensureDebianSudoImage } from "../support/debian-image.js";
import { testServices } from "../support/services.js";

const run = promisify(execFile);
const repository = resolve(import.meta.dirname, "../..");
const stubs = join(repository, "test/support/boot-host");
const ARTIFACT_KEY = "kozmic-boot-test/runner.tar.gz";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kozmic-boot-test";
const CACHE_TAG_KEY = "k".repeat(64);
const LIBSTDCXX = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

/**
 * A runner host's boot, run for real in a container standing in for the host (the Debian
 * test image): the user data the stack writes, with the runner artifact built from this
 * checkout and served from 127.0.0.1 instead of S3, Secrets Manager and the instance
 * metadata faked (test/support/boot-host/), ElasticMQ and DynamoDB Local as the queues and
 * table, and the test machine's Docker engine. A container has no systemd: the systemctl
 * stand-in starts the unit's command as the unit says.
 */
describe("runner host boot: the user data takes a bare host to a running `kozmic runner`", () => {
  const services = testServices();
  let root: string;
  let artifact: ReturnType<typeof readRunnerArtifact>;
  let served: Buffer;
  let server: Server;
  let port: number;
  let environment: Record<string, string>;
  const containers: string[] = [];

  before(async () => {
    ensureDebianSudoImage({});
    root = mkdtempSync(join(tmpdir(), "kozmic-boot-"));
    // Compressed fast: the boot checks and unpacks it the same way whatever its level.
    const built = await bundleRunner(join(root, "artifact"), { gzipLevel: 1 });
    artifact = readRunnerArtifact(built.file);
    const sqs = new SQSClient({ endpoint: services.sqsEndpoint, region: services.region });
    const dynamo = new DynamoDBClient({
      endpoint: services.dynamodbEndpoint,
      region: services.region,
    });
    const name = uniqueQueueName("boot");
    const jobs = await ensureSqsQueues(sqs, name, DEFAULT_MAX_RECEIVES);
    const plans = await ensureSqsQueues(sqs, `${name}-plans`, PLAN_MAX_RECEIVES);
    const table = `boot-${randomUUID()}`;
    await ensureDynamoTable(dynamo, table);
    sqs.destroy();
    dynamo.destroy();
    environment = {
      APP_ID: "4242",
      KOZMIC_PUBLIC_URL: "https://ci.example.com",
      AWS_REGION: services.region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_SQS: services.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
      KOZMIC_QUEUE_URL: jobs.queueUrl,
      KOZMIC_DEAD_LETTER_QUEUE_URL: jobs.deadLetterQueueUrl,
      KOZMIC_PLAN_QUEUE_URL: plans.queueUrl,
      KOZMIC_TABLE: table,
      KOZMIC_MAX_RECEIVES: String(DEFAULT_MAX_RECEIVES),
      KOZMIC_RUNNER_CONCURRENCY: "1",
      KOZMIC_RUNNER_NAME: `boot-${randomUUID().slice(0, 8)}`,
      KOZMIC_NETWORK: "bridge",
    };
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    // The hosts' own secret, as the stack makes it (RUNNER_SECRET_KEYS) and docs/aws.md fills it.
    const secret = JSON.stringify({
      PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }),
      KOZMIC_CACHE_REGISTRY_KEY: CACHE_TAG_KEY,
    });
    served = readFileSync(artifact.path);
    server = createServer((request, response) => {
      const body =
        request.url === `/s3/${ARTIFACT_KEY}`
          ? served
          : request.url === "/secret"
            ? Buffer.from(secret)
            : undefined;
      response.writeHead(body ? 200 : 404, { "content-length": body?.length ?? 0 });
      response.end(body);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    for (const name of containers) await run("docker", ["rm", "-f", name]).catch(() => {});
    await new Promise((done) => server?.close(done));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Boots a new stand-in host with `userData`; resolves with the boot's exit code and a way to look inside. */
  async function boot(userData: string) {
    const name = `kozmic-boot-test-${randomUUID().slice(0, 8)}`;
    const script = join(root, `${name}.sh`);
    writeFileSync(script, userData);
    containers.push(name);
    await run("docker", [
      "run",
      "-d",
      // Reaps the processes the boot leaves, as a host's init does.
      "--init",
      "--name",
      name,
      // 127.0.0.1 is the test machine's: the artifact server, ElasticMQ and DynamoDB Local.
      "--network",
      "host",
      "-v",
      "/var/run/docker.sock:/var/run/docker.sock",
      "-v",
      `${stubs}:/kozmic-stubs:ro`,
      "-v",
      `${script}:/var/lib/cloud/user-data:ro`,
      // Amazon Linux has libstdc++, which Node.js links to; the Debian test image has not.
      "-v",
      `${LIBSTDCXX}:${LIBSTDCXX}:ro`,
      DEBIAN_SUDO_IMAGE,
      "sleep",
      "infinity",
    ]);
    const exec = (args: string[]) =>
      run("docker", ["exec", name, ...args]).then(
        (o) => ({ code: 0, ...o }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const result = await run(
      "docker",
      [
        "exec",
        "-e",
        "PATH=/kozmic-stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "-e",
        `STUB_HTTP=127.0.0.1:${port}`,
        "-e",
        `STUB_DOCKER_GID=${statSync("/var/run/docker.sock").gid}`,
        name,
        "bash",
        "/var/lib/cloud/user-data",
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).then(
      (o) => ({ code: 0, ...o }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const read = async (path: string) => (await exec(["cat", path])).stdout;
    return { name, result, exec, read };
  }

  const userData = (sha256: string, healthWaitSeconds?: number) =>
    runnerUserData(
      readFileSync(join(repository, "infra/runner/kozmic-runner.service"), "utf8"),
      readFileSync(join(repository, "infra/runner/runner.env.example"), "utf8"),
      {
        environment,
        secretArn: SECRET_ARN,
        region: services.region,
        artifact: { s3Url: `s3://${ARTIFACT_KEY}`, sha256, machine: artifact.machine },
        bootLogGroup: "kozmic-boot-test-boot",
        runnerLogGroup: "kozmic-boot-test-runner",
        ...(healthWaitSeconds ? { healthWaitSeconds } : {}),
      },
    );

  it("installs the artifact it checked, writes the key and settings, and the runner receives jobs", async () => {
    const host = await boot(userData(artifact.sha256));
    const bootLog = await host.read("/var/log/kozmic/boot.log");
    const runnerLog = await host.read("/var/log/kozmic/runner.log");
    assert.equal(host.result.code, 0, `${bootLog}\n--- runner:\n${runnerLog}`);
    assert.match(
      bootLog,
      new RegExp(
        `kozmic boot: the runner answers http://127\\.0\\.0\\.1:${RUNNER_HEALTH_PORT}/healthz`,
      ),
    );
    assert.match(runnerLog, /receiving jobs, 1 at a time/);

    const calls = (await host.read("/var/log/kozmic-stubs.log")).split("\n");
    assert.ok(
      calls.includes("dnf install -y docker amazon-cloudwatch-agent libstdc++"),
      calls.join("\n"),
    );
    assert.ok(
      calls.includes(
        `aws s3 cp --region ${services.region} --only-show-errors s3://${ARTIFACT_KEY} /var/tmp/kozmic-runner.tar.gz`,
      ),
    );
    assert.ok(calls.some((c) => c.startsWith("amazon-cloudwatch-agent-ctl -a fetch-config")));
    assert.ok(!calls.some((c) => c.includes("set-instance-health")), "a good boot is not reported");
    const agent = JSON.parse(
      await host.read("/opt/aws/amazon-cloudwatch-agent/etc/kozmic.json"),
    ) as { logs: { logs_collected: { files: { collect_list: { file_path: string }[] } } } };
    assert.deepEqual(
      agent.logs.logs_collected.files.collect_list.map((f) => f.file_path),
      ["/var/log/kozmic/boot.log", "/var/log/kozmic/runner.log"],
    );

    // The runner runs as kozmic, from the artifact's own Node.js; nothing was built here.
    const processes = (await host.exec(["ps", "-eo", "user:20,args"])).stdout;
    assert.match(processes, /^kozmic\s+\/usr\/bin\/node \/opt\/kozmic\/bin\/kozmic\.js runner$/m);
    assert.equal(
      (await host.exec(["readlink", "/usr/bin/node"])).stdout.trim(),
      "/opt/kozmic/node/bin/node",
    );
    assert.equal(
      (await host.exec(["ls", "/opt/kozmic/node_modules"])).stdout
        .split("\n")
        .filter(Boolean)
        .join(" "),
      "better-sqlite3 bindings file-uri-to-path",
    );
    assert.equal((await host.exec(["test", "-e", "/var/tmp/kozmic-runner.tar.gz"])).code, 1);
    // The key, readable by the kozmic group only; the settings the stack gave.
    assert.equal(
      (await host.exec(["stat", "-c", "%a %U:%G", "/etc/kozmic/app.pem"])).stdout.trim(),
      "440 root:kozmic",
    );
    assert.match(
      await host.exec(["head", "-c", "40", "/etc/kozmic/app.pem"]).then((r) => r.stdout),
      /^-----BEGIN RSA PRIVATE KEY-----/,
    );
    const env = await host.read("/etc/kozmic/runner.env");
    assert.match(env, /^KOZMIC_NETWORK=bridge$/m);
    assert.match(env, /^PRIVATE_KEY_PATH=\/etc\/kozmic\/app\.pem$/m);
    assert.match(env, new RegExp(`^KOZMIC_CACHE_REGISTRY_KEY=${CACHE_TAG_KEY}$`, "m"));

    // systemd's stop: SIGTERM, and the runner stops cleanly.
    const pid = (await host.read("/run/kozmic-runner.pid")).trim();
    await host.exec(["kill", "-TERM", pid]);
    await host.exec(["bash", "-c", `while kill -0 ${pid} 2>/dev/null; do sleep 0.2; done`]);
    assert.match(await host.read("/var/log/kozmic/runner.log"), /stopped/);
  });

  it("an artifact that is not the one the stack built is never run, and the host reports itself unhealthy", async () => {
    const host = await boot(userData("f".repeat(64)));
    const bootLog = await host.read("/var/log/kozmic/boot.log");
    assert.notEqual(host.result.code, 0, bootLog);
    assert.match(
      bootLog,
      /kozmic boot: \/var\/tmp\/kozmic-runner\.tar\.gz from s3:\/\/kozmic-boot-test\/runner\.tar\.gz is not the artifact the stack built \(sha256 f{64}\)/,
    );
    assert.match(bootLog, /marking this host unhealthy/);
    const calls = (await host.read("/var/log/kozmic-stubs.log")).split("\n");
    assert.ok(
      calls.includes(
        `aws autoscaling set-instance-health --region ${services.region} --instance-id i-0b00t7e57 --health-status Unhealthy --no-should-respect-grace-period`,
      ),
      calls.join("\n"),
    );
    assert.equal((await host.exec(["test", "-e", "/opt/kozmic"])).code, 1, "nothing unpacked");
    assert.ok(!calls.some((c) => c.startsWith("systemctl enable --now kozmic-runner")));
  });

  it("a runner that does not come up (its settings are refused) fails the boot and reports it", async () => {
    const good = environment;
    environment = { ...good, KOZMIC_MAX_RECEIVES: String(DEFAULT_MAX_RECEIVES + 1) };
    let host;
    try {
      host = await boot(userData(artifact.sha256, 10));
    } finally {
      environment = good;
    }
    const bootLog = await host.read("/var/log/kozmic/boot.log");
    assert.notEqual(host.result.code, 0, bootLog);
    assert.match(
      bootLog,
      /the runner did not answer http:\/\/127\.0\.0\.1:\d+\/healthz within \d+ s/,
    );
    assert.match(await host.read("/var/log/kozmic/runner.log"), /KOZMIC_MAX_RECEIVES/);
    const calls = (await host.read("/var/log/kozmic-stubs.log")).split("\n");
    assert.ok(calls.some((c) => c.includes("set-instance-health") && c.includes("Unhealthy")));
  });
});
