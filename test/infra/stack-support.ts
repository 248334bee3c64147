import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  readRunnerArtifact,
  runnerArtifactName,
  type RunnerArtifactFile,
} from "../../infra/lib/runner-artifact.js";

/**
 * Three directories standing in for `npm run bundle`'s output, each with a tiny index.mjs,
 * and a file for the runner artifact, so that the infra tests never depend on the real bundle.
 */
export function fakeBundles(): {
  webhookCode: string;
  plannerCode: string;
  scalerCode: string;
  runnerArtifact: RunnerArtifactFile;
  root: string;
} {
  const root = mkdtempSync(join(tmpdir(), "kozmic-infra-"));
  const webhookCode = join(root, "webhook");
  const plannerCode = join(root, "planner");
  mkdirSync(webhookCode);
  mkdirSync(plannerCode);
  const scalerCode = join(root, "scaler");
  mkdirSync(scalerCode);
  writeFileSync(join(scalerCode, "index.mjs"), "export const scaleHandler = async () => ({});\n");
  writeFileSync(
    join(webhookCode, "index.mjs"),
    "export const handler = async () => ({ statusCode: 204 });\n",
  );
  writeFileSync(
    join(plannerCode, "index.mjs"),
    "export const planHandler = async () => ({ batchItemFailures: [] });\n",
  );
  // Not a real tarball: the stack only uploads it and passes its sha256 on.
  const artifact = join(root, runnerArtifactName("x64"));
  writeFileSync(artifact, "a stand-in for the runner artifact\n");
  return {
    webhookCode,
    plannerCode,
    scalerCode,
    runnerArtifact: readRunnerArtifact(artifact),
    root,
  };
}

export type Json = Record<string, unknown>;
export interface Statement {
  Effect: string;
  Action?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** Every policy statement anywhere in a template, with the resource it is in. */
export function policyStatements(
  template: Json,
): { resource: string; type: string; statement: Statement }[] {
  const found: { resource: string; type: string; statement: Statement }[] = [];
  const walk = (value: unknown, resource: string, type: string) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, resource, type);
    } else if (value !== null && typeof value === "object") {
      const object = value as Json;
      if (Array.isArray(object.Statement)) {
        for (const statement of object.Statement as Statement[]) {
          found.push({ resource, type, statement });
        }
      }
      for (const v of Object.values(object)) walk(v, resource, type);
    }
  };
  for (const [id, r] of Object.entries(template.Resources as Record<string, Json>)) {
    walk(r.Properties, id, r.Type as string);
  }
  return found;
}

export const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
