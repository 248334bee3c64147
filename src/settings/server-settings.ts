import * as z from "zod";
import type { AppCredentials } from "./app-credentials.js";
import { oneOfVar } from "./env-vars.js";
import { LOG_VARIABLES, type LogLevel } from "./log-settings.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import { KOZMIC_QUEUE_URL, PUBLIC_URL_VARIABLES, publicUrl } from "./shared-variables.js";

/** How the app's server (Node or Lambda) receives webhooks and logs. */
export interface ServerOwnSettings {
  webhookSecret: string;
  port: number;
  host: string;
  /** Base URL of the log pages, where check runs' "Details" links point. */
  publicUrl: string;
  logLevel: LogLevel;
  /** Probot's LOG_FORMAT: `pretty` for a terminal (default), `json` for log collectors. */
  logFormat?: "json" | "pretty";
  /** Whether `kozmic serve` runs jobs itself (the single-box deployment); see runsJobsHere. */
  embeddedRunner: boolean;
}

/** The server's settings with the app's credentials, as Probot takes them. */
export type ServerSettings = ServerOwnSettings & AppCredentials;

/** HOST and PORT: where `kozmic serve` listens, its set-up page and the App alike. */
export interface ListenAddress {
  host: string;
  port: number;
}

const LISTEN_VARIABLES = {
  HOST: z
    .string()
    .optional()
    .transform((host) => host?.trim() || "0.0.0.0"),
  PORT: PUBLIC_URL_VARIABLES.PORT,
};

/** The one reading of HOST and PORT, so the set-up page binds where the App then will. */
export const listenGroup: SettingsGroup<ListenAddress> = schemaGroup(
  z.object(LISTEN_VARIABLES).transform((e) => ({ host: e.HOST, port: e.PORT })),
);

const schema = z
  .object({
    WEBHOOK_SECRET: z.string({
      error: "WEBHOOK_SECRET is required: the webhook secret set when the app was registered",
    }),
    ...LOG_VARIABLES,
    KOZMIC_EMBEDDED_RUNNER: oneOfVar("KOZMIC_EMBEDDED_RUNNER", ["auto", "true", "false"]),
    KOZMIC_QUEUE_URL,
    ...PUBLIC_URL_VARIABLES,
    ...LISTEN_VARIABLES,
  })
  .transform((e): ServerOwnSettings => ({
    webhookSecret: e.WEBHOOK_SECRET,
    port: e.PORT,
    host: e.HOST,
    publicUrl: publicUrl(e),
    logLevel: e.LOG_LEVEL,
    ...(e.LOG_FORMAT ? { logFormat: e.LOG_FORMAT } : {}),
    embeddedRunner: runsJobsHere(e),
  }));

/**
 * KOZMIC_EMBEDDED_RUNNER's rule: "true" or "false" decide; "auto" (the default) runs jobs
 * here when the queue is the embedded one, which no runner on another host could read.
 */
export function runsJobsHere(env: {
  KOZMIC_EMBEDDED_RUNNER?: string | undefined;
  KOZMIC_QUEUE_URL?: string | undefined;
}): boolean {
  const choice = env.KOZMIC_EMBEDDED_RUNNER?.trim();
  if (choice === "true") return true;
  if (choice === "false") return false;
  return env.KOZMIC_QUEUE_URL === undefined;
}

export const serverGroup: SettingsGroup<ServerOwnSettings> = schemaGroup(schema);
