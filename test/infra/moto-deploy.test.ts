import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { App } from "aws-cdk-lib";
import { KozmicStack } from "../../infra/kozmic-stack.js";
import { freePort } from "../support/free-port.js";
import { fakeBundles } from "./stack-support.js";

const run = promisify(execFile);
const repository = resolve(import.meta.dirname, "../..");

interface Deployment {
  status: string;
  reason: string | null;
  resources: Record<string, { type: string; status: string }>;
  outputs: Record<string, string>;
}
interface Result {
  removed: Record<string, string>;
  first: Deployment;
  again: Deployment;
  named: Deployment;
  namedAgain: Deployment;
  tables: string[];
}

/** Up once moto's port takes connections. */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1", () => (socket.end(), done(true)));
      socket.on("error", () => done(false));
    });
    if (up) return;
    await sleep(100);
  }
}

/**
 * The synthesized template deployed into moto's CloudFormation (moto_server on 127.0.0.1),
 * with the assets uploaded as `cdk deploy` does and what moto does not model taken out
 * (test/infra/moto-deploy.py; docs/aws.md lists it and how it is checked instead). Then
 * destroyed and deployed again.
 */
describe("infra: the template deploys into moto's CloudFormation, and again after a delete", () => {
  let bundles: ReturnType<typeof fakeBundles>;
  let moto: ChildProcess;
  let result: Result;

  before(async () => {
    process.env.CDK_VALIDATION = "false";
    bundles = fakeBundles();
    const outdir = join(bundles.root, "cdk.out");
    const app = new App({ outdir });
    new KozmicStack(app, "Kozmic", bundles);
    app.synth();
    const port = await freePort();
    moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    await listening(port, moto);
    const { stdout } = await run(
      "python3",
      [join(repository, "test/infra/moto-deploy.py"), `http://127.0.0.1:${port}`, outdir, "Kozmic"],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    result = JSON.parse(stdout) as Result;
  });
  after(() => {
    moto?.kill();
    if (bundles) rmSync(bundles.root, { recursive: true, force: true });
  });

  it("every resource moto models is created: queues, table, key, functions, roles, runner hosts", () => {
    const { first } = result;
    assert.equal(first.status, "CREATE_COMPLETE", first.reason ?? "");
    const statuses = new Set(Object.values(first.resources).map((r) => r.status));
    assert.deepEqual([...statuses], ["CREATE_COMPLETE"]);
    const types = new Set(Object.values(first.resources).map((r) => r.type));
    for (const type of [
      "AWS::SQS::Queue",
      "AWS::DynamoDB::Table",
      "AWS::KMS::Key",
      "AWS::Lambda::Function",
      "AWS::Lambda::EventSourceMapping",
      "AWS::Lambda::Permission",
      "AWS::IAM::Role",
      "AWS::IAM::InstanceProfile",
      "AWS::Logs::LogGroup",
      "AWS::ECR::Repository",
      "AWS::SNS::Topic",
      "AWS::EC2::SecurityGroup",
      "AWS::EC2::LaunchTemplate",
      "AWS::AutoScaling::AutoScalingGroup",
    ]) {
      assert.ok(types.has(type), `${type} created`);
    }
    assert.match(first.outputs.QueueUrl ?? "", /\/kozmic-jobs$/);
    assert.match(first.outputs.Table ?? "", /^Kozmic-Store/);
  });

  it("what moto cannot model is exactly what docs/aws.md lists, with how it is checked instead", () => {
    const docs = readFileSync(join(repository, "docs/aws.md"), "utf8");
    const types = [...new Set(Object.values(result.removed))].sort();
    assert.deepEqual(types, [
      "AWS::CloudWatch::Alarm",
      "AWS::Lambda::Url",
      "AWS::SNS::Subscription",
      "AWS::SNS::TopicPolicy",
      "AWS::SQS::QueuePolicy",
      "AWS::SecretsManager::Secret",
    ]);
    for (const type of types) assert.ok(docs.includes(`\`${type}\``), `docs/aws.md names ${type}`);
  });

  it("destroy then deploy: a new table beside the kept one; a fixed table name is what blocks it", () => {
    assert.equal(result.again.status, "CREATE_COMPLETE", result.again.reason ?? "");
    assert.notEqual(result.again.outputs.Table, result.first.outputs.Table);
    assert.equal(result.named.status, "CREATE_COMPLETE", result.named.reason ?? "");
    assert.equal(result.named.outputs.Table, "kozmic");
    assert.equal(result.namedAgain.status, "CREATE_FAILED");
    assert.match(result.namedAgain.reason ?? "", /Table already exists: kozmic/);
    // Every table outlived its stack (they hold the builds' records).
    assert.deepEqual(
      [...result.tables].sort(),
      [result.first.outputs.Table, result.again.outputs.Table, "kozmic"].sort(),
    );
  });
});
