import { cpus, hostname } from "node:os";
import * as z from "zod";
import { DEFAULT_LOG_CAP_BYTES } from "../store/store-rules.js";
import type { RunnerSettings } from "../core/runner-settings.js";
import { durationVar, patternVar, sizeVar, wholeNumberVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import { KOZMIC_MAX_RECEIVES, PUBLIC_URL_VARIABLES, publicUrl } from "./shared-variables.js";

/**
 * A job this short never shows "in progress": with GitHub's writes paced a second apart per
 * installation, its one completion update is what a user waits for. Long enough for a
 * cache-hit test run, short enough that nobody watching sees the difference.
 */
export const IN_PROGRESS_DELAY_MS = 2_000;

/** The runner group's part: everything but the pipeline's limits. */
export type RunnerOwnSettings = Omit<RunnerSettings, "pipeline">;

const schema = z
  .object({
    KOZMIC_RUNNER_NAME: patternVar(
      "KOZMIC_RUNNER_NAME",
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
      "1-63 of A-Z a-z 0-9 _ . - (a Docker label value)",
    ),
    KOZMIC_RUNNER_CONCURRENCY: wholeNumberVar("KOZMIC_RUNNER_CONCURRENCY", 1, 256),
    KOZMIC_LOG_CAP_BYTES: sizeVar("KOZMIC_LOG_CAP_BYTES"),
    KOZMIC_SHUTDOWN_GRACE: durationVar("KOZMIC_SHUTDOWN_GRACE"),
    KOZMIC_MIRROR_MAX_AGE: durationVar("KOZMIC_MIRROR_MAX_AGE"),
    KOZMIC_MAX_RECEIVES,
    ...PUBLIC_URL_VARIABLES,
  })
  .transform((e): RunnerOwnSettings => ({
    name:
      e.KOZMIC_RUNNER_NAME ??
      hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 63),
    concurrency: e.KOZMIC_RUNNER_CONCURRENCY ?? Math.max(1, cpus().length),
    publicUrl: publicUrl(e),
    logCapBytes: e.KOZMIC_LOG_CAP_BYTES ?? DEFAULT_LOG_CAP_BYTES,
    shutdownGraceMs: (e.KOZMIC_SHUTDOWN_GRACE ?? 60) * 1000,
    maxReceives: e.KOZMIC_MAX_RECEIVES,
    leaseMs: 30_000,
    heartbeatMs: 10_000,
    cancelPollMs: 2_000,
    progressIntervalMs: 5_000,
    inProgressDelayMs: IN_PROGRESS_DELAY_MS,
    retryBaseSeconds: 15,
    pollWaitSeconds: 10,
    mirrorMaxAgeMs: (e.KOZMIC_MIRROR_MAX_AGE ?? 14 * 24 * 3600) * 1000,
  }));

export const runnerGroup: SettingsGroup<RunnerOwnSettings> = schemaGroup(schema);
