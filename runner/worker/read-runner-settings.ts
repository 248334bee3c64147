import { readFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { z } from "zod";
import { parseBytes, parseDurationSeconds } from "../../src/core/duration.js";
import { httpUrlVar, wholeNumberVar } from "../../src/core/env-vars.js";
import { SettingsError } from "../../src/store/read-storage-settings.js";
import { settingsFromEnv } from "../pipeline/settings-from-env.js";
import type { PipelineSettings } from "../pipeline/settings.js";
import { DEFAULT_LOG_CAP_BYTES } from "../logs/store-log-writer.js";

/** How the runner daemon behaves; read from KOZMIC_* by readRunnerSettings. */
export interface RunnerSettings {
  /** Stable across restarts: containers are labelled with it so a restart finds its leftovers. */
  name: string;
  /** Jobs run at once. */
  concurrency: number;
  /** Where users read logs: `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  logCapBytes: number;
  /** How long running jobs may finish after SIGTERM before they are returned to the queue. */
  shutdownGraceMs: number;
  /** The queue's receive limit: on the last receive an infrastructure failure is final. */
  maxReceives: number;
  pipeline: PipelineSettings;
  /** Lease on a claimed job; the heartbeat renews it well before it ends. */
  leaseMs: number;
  heartbeatMs: number;
  cancelPollMs: number;
  /** Least time between two log-tail updates of a check run. */
  progressIntervalMs: number;
  /** First backoff before an infrastructure failure is retried; doubles per receive. */
  retryBaseSeconds: number;
  /** Long-poll wait of one receive. */
  pollWaitSeconds: number;
  /** Git mirrors no job used for this long are removed (checked at start and every 6 hours). */
  mirrorMaxAgeMs: number;
}

const duration = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return undefined;
      const seconds = value.trim() === "0" ? 0 : parseDurationSeconds(value);
      if (seconds === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a duration such as "60s" or "2m", got "${value}"`,
        });
        return z.NEVER;
      }
      return seconds;
    });

const envSchema = z.object({
  KOZMIC_RUNNER_NAME: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return undefined;
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(value)) {
        ctx.addIssue({
          code: "custom",
          message: `KOZMIC_RUNNER_NAME must be 1-63 of A-Z a-z 0-9 _ . - (a Docker label value), got "${value}"`,
        });
        return z.NEVER;
      }
      return value;
    }),
  KOZMIC_RUNNER_CONCURRENCY: wholeNumberVar("KOZMIC_RUNNER_CONCURRENCY", 1, 256),
  KOZMIC_PUBLIC_URL: httpUrlVar("KOZMIC_PUBLIC_URL", "https://ci.example.com"),
  KOZMIC_LOG_CAP_BYTES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return DEFAULT_LOG_CAP_BYTES;
      const bytes = parseBytes(value);
      if (bytes === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `KOZMIC_LOG_CAP_BYTES must be a size such as "50m" or a number of bytes, got "${value}"`,
        });
        return z.NEVER;
      }
      return bytes;
    }),
  KOZMIC_SHUTDOWN_GRACE: duration("KOZMIC_SHUTDOWN_GRACE"),
  KOZMIC_MIRROR_MAX_AGE: duration("KOZMIC_MIRROR_MAX_AGE"),
  KOZMIC_MAX_RECEIVES: wholeNumberVar("KOZMIC_MAX_RECEIVES", 1, 1000),
});

/**
 * The runner's settings from the environment (pipeline limits included); a bad variable
 * stops start-up with its name in a SettingsError.
 */
export function readRunnerSettings(env: NodeJS.ProcessEnv = process.env): RunnerSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(
      `invalid runner settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
    );
  }
  const e = parsed.data;
  return {
    name:
      e.KOZMIC_RUNNER_NAME ??
      hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 63),
    concurrency: e.KOZMIC_RUNNER_CONCURRENCY ?? Math.max(1, cpus().length),
    publicUrl: (e.KOZMIC_PUBLIC_URL ?? "http://localhost:3000").replace(/\/+$/, ""),
    logCapBytes: e.KOZMIC_LOG_CAP_BYTES,
    shutdownGraceMs: (e.KOZMIC_SHUTDOWN_GRACE ?? 60) * 1000,
    maxReceives: e.KOZMIC_MAX_RECEIVES ?? 5,
    pipeline: settingsFromEnv(env),
    leaseMs: 60_000,
    heartbeatMs: 15_000,
    cancelPollMs: 2_000,
    progressIntervalMs: 5_000,
    retryBaseSeconds: 15,
    pollWaitSeconds: 10,
    mirrorMaxAgeMs: (e.KOZMIC_MIRROR_MAX_AGE ?? 14 * 24 * 3600) * 1000,
  };
}

/** The GitHub App's credentials, Probot's way: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, GHE_*. */
export interface AppCredentials {
  appId: number;
  privateKey: string;
  /** The REST API base: api.github.com, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  baseUrl?: string;
}

export function readAppCredentials(env: NodeJS.ProcessEnv = process.env): AppCredentials {
  const appId = Number(env.APP_ID);
  if (!env.APP_ID || !Number.isInteger(appId) || appId <= 0) {
    throw new SettingsError(
      `APP_ID must be the GitHub App's numeric id, got ${env.APP_ID === undefined ? "nothing" : `"${env.APP_ID}"`}`,
    );
  }
  let privateKey = env.PRIVATE_KEY?.replace(/\\n/g, "\n");
  if (!privateKey && env.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(env.PRIVATE_KEY_PATH, "utf8");
    } catch (error) {
      throw new SettingsError(
        `PRIVATE_KEY_PATH=${env.PRIVATE_KEY_PATH} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  }
  if (!privateKey) {
    throw new SettingsError(
      "PRIVATE_KEY or PRIVATE_KEY_PATH must give the GitHub App's private key (PEM)",
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new SettingsError(
      `${env.PRIVATE_KEY ? "PRIVATE_KEY" : "PRIVATE_KEY_PATH"} does not hold a PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----")`,
    );
  }
  const protocol = env.GHE_PROTOCOL || "https";
  if (protocol !== "https" && protocol !== "http") {
    throw new SettingsError(`GHE_PROTOCOL must be https or http, got "${protocol}"`);
  }
  if (env.GHE_HOST && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(env.GHE_HOST)) {
    throw new SettingsError(
      `GHE_HOST must be a host name such as github.example.com (no scheme or path), got "${env.GHE_HOST}"`,
    );
  }
  return {
    appId,
    privateKey,
    ...(env.GHE_HOST ? { baseUrl: `${protocol}://${env.GHE_HOST}/api/v3` } : {}),
  };
}
