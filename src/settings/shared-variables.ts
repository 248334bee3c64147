import { httpUrlVar, oneOfVar, patternVar, wholeNumberVar } from "./env-vars.js";
import * as z from "zod";
import { DEFAULT_DATA_DIR } from "./data-dir.js";

/**
 * Variables that more than one group reads, defined once so that every entry point gives
 * them the same default, accepted forms and messages.
 */

/** GitHub's address: github.com, or a GitHub Enterprise Server (app credentials, web). */
export const GITHUB_VARIABLES = {
  GHE_HOST: patternVar(
    "GHE_HOST",
    /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/,
    "a host name with an optional port, such as github.example.com (no scheme or path)",
  ),
  GHE_PROTOCOL: oneOfVar("GHE_PROTOCOL", ["https", "http"]).transform((p) => p ?? "https"),
};

export function githubUrls(e: { GHE_HOST?: string | undefined; GHE_PROTOCOL: string }): {
  apiUrl: string;
  webUrl: string;
} {
  if (!e.GHE_HOST) return { apiUrl: "https://api.github.com", webUrl: "https://github.com" };
  const webUrl = `${e.GHE_PROTOCOL}://${e.GHE_HOST}`;
  return { apiUrl: `${webUrl}/api/v3`, webUrl };
}

/** Where the log pages are served (server, runner, web). */
export const PUBLIC_URL_VARIABLES = {
  KOZMIC_PUBLIC_URL: httpUrlVar("KOZMIC_PUBLIC_URL", "https://ci.example.com"),
  PORT: wholeNumberVar("PORT", 0, 65_535).transform((port) => port ?? 3000),
};

/** KOZMIC_PUBLIC_URL without its trailing slash, else the server's own address. */
export function publicUrl(e: { KOZMIC_PUBLIC_URL?: string | undefined; PORT: number }): string {
  return (e.KOZMIC_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
}

/** Embedded queue and store, mirrors, checkouts, locks and cache records (pipeline, storage). */
export const KOZMIC_DATA_DIR = z
  .string()
  .optional()
  .transform((dir) => dir ?? DEFAULT_DATA_DIR);

/**
 * KOZMIC_MAX_RECEIVES when unset: what the runner is given and what the CDK stack
 * (infra/) sets as the job queue's redrive maxReceiveCount, so the two agree by default.
 */
export const DEFAULT_MAX_RECEIVES = 5;

/** Receives of a job message before it is dead-lettered (runner, storage). */
export const KOZMIC_MAX_RECEIVES = wholeNumberVar("KOZMIC_MAX_RECEIVES", 1, 1000).transform(
  (n) => n ?? DEFAULT_MAX_RECEIVES,
);

/** The SQS job queue; unset, the embedded queue (server, storage). */
export const KOZMIC_QUEUE_URL = httpUrlVar(
  "KOZMIC_QUEUE_URL",
  "https://sqs.eu-west-1.amazonaws.com/123456789012/kozmic-jobs",
);

/** The runner hosts' EC2 Auto Scaling group (host draining, scaler). */
export const KOZMIC_AUTO_SCALING_GROUP = patternVar(
  "KOZMIC_AUTO_SCALING_GROUP",
  /^[A-Za-z0-9_.:/-]{1,255}$/,
  "an Auto Scaling group's name",
);

/** Days a log (and a job's artifacts) is kept (storage, artifacts). */
export const KOZMIC_LOG_RETENTION_DAYS = wholeNumberVar(
  "KOZMIC_LOG_RETENTION_DAYS",
  1,
  3650,
).transform((days) => days ?? 30);
