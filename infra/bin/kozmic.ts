/**
 * The CDK app: `npx cdk deploy` in infra/ (cdk.json runs this file through tsx). The
 * functions' code and the runner hosts' artifact are what `npm run bundle` writes; `-c
 * webhookCode=DIR -c plannerCode=DIR -c scalerCode=DIR -c runnerArtifact=FILE` take them
 * from elsewhere.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { KozmicStack } from "../kozmic-stack.js";
import { readRunnerArtifact, runnerArtifactName } from "../lib/runner-artifact.js";

const repository = fileURLToPath(new URL("../..", import.meta.url));
const app = new App();

/** A bundle directory from the context or dist/lambda/, refused without its index.mjs. */
function bundle(contextKey: string, name: string): string {
  const given: unknown = app.node.tryGetContext(contextKey);
  const dir = typeof given === "string" ? given : join(repository, "dist", "lambda", name);
  if (!existsSync(join(dir, "index.mjs"))) {
    console.error(
      `kozmic infra: the ${name} function's bundle ${join(dir, "index.mjs")} does not exist: run npm run bundle first (in ${repository})`,
    );
    process.exit(1);
  }
  return dir;
}

/** The runner artifact from the context or dist/runner/, refused when it is not there. */
function runnerArtifact() {
  const given: unknown = app.node.tryGetContext("runnerArtifact");
  const file =
    typeof given === "string"
      ? given
      : join(repository, "dist", "runner", runnerArtifactName(process.arch));
  if (!existsSync(file)) {
    console.error(
      `kozmic infra: the runner hosts' artifact ${file} does not exist: run npm run bundle first (in ${repository})`,
    );
    process.exit(1);
  }
  return readRunnerArtifact(file);
}

new KozmicStack(app, app.node.tryGetContext("stackName") ?? "Kozmic", {
  webhookCode: bundle("webhookCode", "webhook"),
  plannerCode: bundle("plannerCode", "planner"),
  scalerCode: bundle("scalerCode", "scaler"),
  runnerArtifact: runnerArtifact(),
});
