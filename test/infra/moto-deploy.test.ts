import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { App } from "aws-cdk-lib";
import { ARTIFACT_EXPIRY_RULE } from "../../infra/lib/artifact-bucket.js";
import { KozmicStack } from "../../infra/kozmic-stack.js";
import { artifactGroup } from "../../src/settings/artifact-settings.js";
import { ARTIFACT_PREFIX, s3ArtifactsFrom } from "../../src/store/s3-artifacts.js";
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
  /** The first deployment's artifact bucket, its settings as moto's S3 API gives them back. */
  artifactBucket: {
    bucket: string;
    encryption: unknown;
    lifecycle: unknown;
    publicAccessBlock: unknown;
    ownership: unknown;
    policy: { Statement: unknown[] };
  };
  /** Every bucket but the assets' after the last delete, with its objects' keys. */
  buckets: Record<string, string[]>;
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
  let endpoint: string;
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
    endpoint = `http://127.0.0.1:${port}`;
    const { stdout } = await run(
      "python3",
      [join(repository, "test/infra/moto-deploy.py"), endpoint, outdir, "Kozmic"],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    result = JSON.parse(stdout) as Result;
  });
  after(() => {
    moto?.kill();
    if (bundles) rmSync(bundles.root, { recursive: true, force: true });
  });

  it("every resource moto models is created: queues, table, artifact bucket, key, functions, roles, runner hosts", () => {
    const { first } = result;
    assert.equal(first.status, "CREATE_COMPLETE", first.reason ?? "");
    const statuses = new Set(Object.values(first.resources).map((r) => r.status));
    assert.deepEqual([...statuses], ["CREATE_COMPLETE"]);
    const types = new Set(Object.values(first.resources).map((r) => r.type));
    for (const type of [
      "AWS::SQS::Queue",
      "AWS::DynamoDB::Table",
      "AWS::S3::Bucket",
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
    assert.match(first.outputs.ArtifactBucket ?? "", /^kozmic-artifacts/);
  });

  it("what moto cannot model is exactly what docs/aws.md lists, with how it is checked instead", () => {
    const docs = readFileSync(join(repository, "docs/aws.md"), "utf8");
    const types = [...new Set(Object.values(result.removed))].sort();
    assert.deepEqual(types, [
      "AWS::CloudWatch::Alarm",
      "AWS::Lambda::Url",
      "AWS::S3::BucketPolicy",
      "AWS::SNS::Subscription",
      "AWS::SNS::TopicPolicy",
      "AWS::SQS::QueuePolicy",
      "AWS::SecretsManager::Secret",
    ]);
    for (const type of types) assert.ok(docs.includes(`\`${type}\``), `docs/aws.md names ${type}`);
  });

  it("the artifact bucket: encrypted; private, owner-enforced, TLS-only and expiring with the logs as S3's API takes the template's values", () => {
    const { artifactBucket: made } = result;
    assert.equal(made.bucket, result.first.outputs.ArtifactBucket);
    // What moto's CloudFormation applies itself.
    assert.deepEqual(made.encryption, {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" }, BucketKeyEnabled: false },
      ],
    });
    // The rest: the template's values, put through moto's S3 API and read back
    // (LogRetentionDays was given as 9).
    assert.deepEqual(made.lifecycle, [
      {
        ID: ARTIFACT_EXPIRY_RULE,
        Status: "Enabled",
        Filter: { Prefix: ARTIFACT_PREFIX },
        Expiration: { Days: 9 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    assert.deepEqual(made.publicAccessBlock, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(made.ownership, { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
    assert.deepEqual(made.policy.Statement, [
      {
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
        Effect: "Deny",
        Principal: { AWS: "*" },
        Resource: [`arn:aws:s3:::${made.bucket}`, `arn:aws:s3:::${made.bucket}/*`],
      },
    ]);
  });

  it("the artifact bucket's name is one KOZMIC_ARTIFACT_BUCKET takes, and the adapter stores, lists and reads in it", async () => {
    const bucket = result.again.outputs.ArtifactBucket!;
    const read = artifactGroup.read({ KOZMIC_ARTIFACT_BUCKET: bucket, AWS_REGION: "us-east-1" });
    assert.ok(read.ok, JSON.stringify(read));
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const store = s3ArtifactsFrom({ bucket, region: "us-east-1", endpoint });
    await store.put("job-2", "dist/app.whl", Readable.from([Buffer.from("wheel")]), 5);
    assert.deepEqual(await store.list("job-2"), [{ name: "dist/app.whl", size: 5 }]);
    const got = await store.get("job-2", "dist/app.whl");
    assert.ok(got);
    assert.equal(Buffer.concat(await got.body.toArray()).toString(), "wheel");
  });

  it("destroy then deploy: each deploy a new artifact bucket, every one kept with its objects", () => {
    const deployed = [result.first, result.again, result.named].map(
      (d) => d.outputs.ArtifactBucket!,
    );
    assert.equal(new Set(deployed).size, 3, deployed.join(", "));
    // namedAgain failed on the table's name and made nothing that stayed.
    assert.deepEqual(Object.keys(result.buckets).sort(), [...deployed].sort());
    assert.deepEqual(result.buckets[result.first.outputs.ArtifactBucket!], [
      "artifacts/job-1/kept.txt",
    ]);
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
