import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { App, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { AwsSolutionsChecks } from "cdk-nag";
import { KozmicStack } from "../../infra/kozmic-stack.js";
import { fakeBundles } from "./stack-support.js";

interface Report {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/**
 * The stack as the AWS community checks CDK apps: cdk-nag's AwsSolutions rules run as a CDK
 * validation plugin at synth, which fails on any finding not acknowledged (each
 * acknowledgement, in the construct that needs it, says why).
 */
describe("infra: cdk-nag's AwsSolutions rules", () => {
  const bundles = fakeBundles();
  after(() => rmSync(bundles.root, { recursive: true, force: true }));

  /** Synthesizes `build`'s stack with the rules on; the findings, or none. */
  function findings(build: (stack: KozmicStack) => void = () => {}): string[] {
    process.env.CDK_VALIDATION = "false";
    const outdir = join(bundles.root, `nag-${Math.random().toString(36).slice(2)}`);
    const app = new App({ outdir });
    build(new KozmicStack(app, "KozmicNag", bundles));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
      return [];
    } catch {
      const report = JSON.parse(
        readFileSync(join(outdir, "validation-report.json"), "utf8"),
      ) as Report;
      return report.pluginReports.flatMap((p) =>
        p.violations.flatMap((v) =>
          v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`),
        ),
      );
    }
  }

  it("the stack passes with every acknowledgement giving its reason", () => {
    assert.deepEqual(findings(), []);
  });

  it("the check is live: a wildcard grant nobody acknowledged fails it", () => {
    const found = findings((stack) => {
      const role = stack.node.findAll().find((c) => c.node.path === "KozmicNag/Runners/Role");
      assert.ok(role, "the runners' role");
      (role as iam.Role).addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::x/*"] }),
      );
    });
    assert.ok(
      found.includes(
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::x/*] KozmicNag/Runners/Role/DefaultPolicy/Resource",
      ),
      found.join("\n"),
    );
  });
});
