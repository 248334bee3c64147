import * as z from "zod";
import { wholeNumberVar } from "./env-vars.js";
import { SettingsError } from "./settings-error.js";
import { schemaGroup, type Env } from "./settings-group.js";
import { withoutBlanks } from "./read-settings.js";
import { KOZMIC_AUTO_SCALING_GROUP, KOZMIC_QUEUE_URL } from "./shared-variables.js";

/** The scaler function's settings (infra/lib/runner-scaling.ts sets them). */
export interface ScalerSettings {
  /** KOZMIC_QUEUE_URL: the job queue whose depth sizes the fleet. */
  queueUrl: string;
  /** KOZMIC_AUTO_SCALING_GROUP: the runner hosts' group. */
  groupName: string;
  /** KOZMIC_RUNNER_CONCURRENCY: jobs one host runs at once. */
  slotsPerHost: number;
  /** KOZMIC_IDLE_MINUTES: how long surplus hosts are kept. */
  idleMs: number;
  /**
   * KOZMIC_ON_DEMAND_PERCENT: the stack's on-demand share above the base; below 100 the
   * scaler falls back to on-demand while spot capacity is short. Unset: no fallback.
   */
  onDemandPercent?: number;
}

const schema = z
  .object({
    KOZMIC_QUEUE_URL,
    KOZMIC_AUTO_SCALING_GROUP,
    KOZMIC_RUNNER_CONCURRENCY: wholeNumberVar("KOZMIC_RUNNER_CONCURRENCY", 1, 256),
    KOZMIC_IDLE_MINUTES: wholeNumberVar("KOZMIC_IDLE_MINUTES", 0, 1440),
    KOZMIC_ON_DEMAND_PERCENT: wholeNumberVar("KOZMIC_ON_DEMAND_PERCENT", 0, 100),
  })
  .superRefine((e, ctx) => {
    for (const name of ["KOZMIC_QUEUE_URL", "KOZMIC_AUTO_SCALING_GROUP"] as const) {
      if (e[name] === undefined) ctx.addIssue({ code: "custom", message: `${name} is required` });
    }
  })
  .transform((e): ScalerSettings => ({
    queueUrl: e.KOZMIC_QUEUE_URL!,
    groupName: e.KOZMIC_AUTO_SCALING_GROUP!,
    slotsPerHost: e.KOZMIC_RUNNER_CONCURRENCY ?? 2,
    idleMs: (e.KOZMIC_IDLE_MINUTES ?? 10) * 60_000,
    ...(e.KOZMIC_ON_DEMAND_PERCENT === undefined
      ? {}
      : { onDemandPercent: e.KOZMIC_ON_DEMAND_PERCENT }),
  }));

/** The scaler's settings from its function's environment; a SettingsError names every bad one. */
export function readScalerSettings(env: Env): ScalerSettings {
  const result = schemaGroup(schema).read(withoutBlanks(env));
  if (!result.ok) throw new SettingsError(result.problems);
  return result.value;
}
