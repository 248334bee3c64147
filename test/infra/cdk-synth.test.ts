import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { fakeBundles, type Json } from "./stack-support.js";

const run = promisify(execFile);
const repository = resolve(import.meta.dirname, "../..");
const infra = join(repository, "infra");

/** The CDK CLI as a user runs it in infra/ (its cdk.json), kept offline. */
function cdk(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(join(repository, "node_modules/.bin/cdk"), args, {
    cwd: infra,
    env: {
      ...process.env,
      CI: "true",
      CDK_DISABLE_VERSION_CHECK: "1",
      CDK_DISABLE_CLI_TELEMETRY: "true",
      // CDK's built-in template validation runs cfn-lint's rules for seconds; the test runs
      // cfn-lint itself.
      CDK_VALIDATION: "false",
    },
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (out) => ({ ...out, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => ({
      stdout: error.stdout,
      stderr: error.stderr,
      code: error.code,
    }),
  );
}

describe("infra: `cdk synth` of the app in infra/, offline, and cfn-lint on its template", () => {
  let bundles: ReturnType<typeof fakeBundles>;
  let out: string;
  let synth: Awaited<ReturnType<typeof cdk>>;
  let missing: Awaited<ReturnType<typeof cdk>>;

  before(async () => {
    bundles = fakeBundles();
    out = join(bundles.root, "cdk.out");
    // Both at once: each spends most of its time loading aws-cdk-lib.
    [synth, missing] = await Promise.all([
      cdk([
        "synth",
        "--no-notices",
        "--quiet",
        "-o",
        out,
        "-c",
        `webhookCode=${bundles.webhookCode}`,
        "-c",
        `plannerCode=${bundles.plannerCode}`,
        "-c",
        `scalerCode=${bundles.scalerCode}`,
        "-c",
        `runnerArtifact=${bundles.runnerArtifact.path}`,
      ]),
      cdk([
        "synth",
        "--no-notices",
        "--quiet",
        "-o",
        join(bundles.root, "missing.out"),
        "-c",
        `webhookCode=${join(bundles.root, "nowhere")}`,
        "-c",
        `plannerCode=${bundles.plannerCode}`,
      ]),
    ]);
  });
  after(() => rmSync(bundles.root, { recursive: true, force: true }));

  it("synthesizes the Kozmic stack with the three functions' code and the runner artifact as assets", () => {
    assert.equal(synth.code, 0, synth.stderr);
    const template = JSON.parse(readFileSync(join(out, "Kozmic.template.json"), "utf8")) as Json;
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
      (r) => r.Type,
    );
    for (const type of [
      "AWS::SQS::Queue",
      "AWS::DynamoDB::Table",
      "AWS::Lambda::Function",
      "AWS::Lambda::Url",
      "AWS::Lambda::EventSourceMapping",
      "AWS::AutoScaling::AutoScalingGroup",
      "AWS::EC2::LaunchTemplate",
    ]) {
      assert.ok(types.includes(type), `${type} in ${types.join(", ")}`);
    }
    const assets = JSON.parse(readFileSync(join(out, "Kozmic.assets.json"), "utf8")) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const zipped = Object.values(assets.files)
      .filter((f) => f.source.packaging === "zip")
      .map((f) => readFileSync(join(out, f.source.path, "index.mjs"), "utf8"))
      .sort();
    assert.deepEqual(
      zipped,
      [
        readFileSync(join(bundles.plannerCode, "index.mjs"), "utf8"),
        readFileSync(join(bundles.webhookCode, "index.mjs"), "utf8"),
        readFileSync(join(bundles.scalerCode, "index.mjs"), "utf8"),
      ].sort(),
    );
    // The runner hosts' artifact, uploaded as the file it is.
    const files = Object.values(assets.files).filter(
      (f) => f.source.packaging === "file" && f.source.path.startsWith("asset."),
    );
    assert.deepEqual(
      files.map((f) => readFileSync(join(out, f.source.path), "utf8")),
      [readFileSync(bundles.runnerArtifact.path, "utf8")],
    );
    assert.ok(!existsSync(join(infra, "cdk.out")), "nothing written into infra/");
  });

  it("cfn-lint finds no error in the template", async () => {
    assert.equal(synth.code, 0, synth.stderr);
    const lint = await run("cfn-lint", [
      "--format",
      "json",
      join(out, "Kozmic.template.json"),
    ]).then(
      (o) => o.stdout,
      // cfn-lint exits non-zero for warnings too; what it found is in stdout.
      (error: { stdout: string }) => error.stdout,
    );
    const findings = JSON.parse(lint) as { Level: string; Rule: { Id: string }; Message: string }[];
    const errors = findings.filter((f) => f.Level === "Error");
    assert.deepEqual(
      errors.map((e) => `${e.Rule.Id}: ${e.Message}`),
      [],
    );
  });

  it("without the bundle: says which file is missing and to run npm run bundle first", () => {
    assert.notEqual(missing.code, 0);
    const file = join(bundles.root, "nowhere", "index.mjs");
    assert.ok(
      missing.stderr.includes(
        `the webhook function's bundle ${file} does not exist: run npm run bundle first`,
      ),
      missing.stderr,
    );
  });
});
