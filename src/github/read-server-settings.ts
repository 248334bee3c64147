import { readFileSync } from "node:fs";
import { z } from "zod";
import { SettingsError } from "../store/read-storage-settings.js";

/** The settings of the app's Node server, from Probot's standard variables plus Kozmic's. */
export interface ServerSettings {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  port: number;
  host: string;
  /** GitHub's REST API base URL: api.github.com, or `<GHE_PROTOCOL>://<GHE_HOST>/api/v3`. */
  baseUrl: string;
  /** Base URL of the log pages, where check runs' "Details" links point. */
  publicUrl: string;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Probot's LOG_FORMAT: `pretty` for a terminal (default), `json` for log collectors. */
  logFormat?: "json" | "pretty";
  /**
   * Whether `kozmic serve` runs jobs itself (the single-box deployment): KOZMIC_EMBEDDED_RUNNER,
   * by default on when the queue is the embedded one (no KOZMIC_QUEUE_URL), which no runner
   * on another host could read anyway.
   */
  embeddedRunner: boolean;
}

export { SettingsError };

const env = z.object({
  APP_ID: z
    .string({ error: "is required: the App ID from the GitHub App's settings page" })
    .regex(/^[1-9][0-9]*$/, "must be the numeric App ID"),
  PRIVATE_KEY: z.string().optional(),
  PRIVATE_KEY_PATH: z.string().min(1).optional(),
  WEBHOOK_SECRET: z
    .string({ error: "is required: the webhook secret set when the app was registered" })
    .min(1, "must not be empty"),
  PORT: z
    .string()
    .regex(/^[0-9]+$/, "must be a port number")
    .transform(Number)
    .refine((port) => port <= 65_535, "must be at most 65535")
    .default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  GHE_HOST: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+(?::[0-9]+)?$/,
      "must be a host name (and port), without a scheme or path",
    )
    .optional(),
  GHE_PROTOCOL: z.enum(["https", "http"], { error: 'must be "https" or "http"' }).default("https"),
  KOZMIC_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. https://ci.example.com" })
    .optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  KOZMIC_EMBEDDED_RUNNER: z
    .enum(["auto", "true", "false"], { error: 'must be "auto", "true" or "false"' })
    .default("auto"),
  KOZMIC_QUEUE_URL: z.string().optional(),
});

/** Reads and checks the server's settings; throws a SettingsError naming the bad variable. */
export function readServerSettings(vars: NodeJS.ProcessEnv = process.env): ServerSettings {
  const present = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== ""));
  const parsed = env.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new SettingsError(lines.join("\n"));
  }
  const s = parsed.data;
  return {
    appId: Number(s.APP_ID),
    privateKey: readPrivateKey(s.PRIVATE_KEY, s.PRIVATE_KEY_PATH),
    webhookSecret: s.WEBHOOK_SECRET,
    port: s.PORT,
    host: s.HOST,
    baseUrl: s.GHE_HOST ? `${s.GHE_PROTOCOL}://${s.GHE_HOST}/api/v3` : "https://api.github.com",
    publicUrl: (s.KOZMIC_PUBLIC_URL ?? `http://localhost:${s.PORT}`).replace(/\/+$/, ""),
    logLevel: s.LOG_LEVEL,
    ...(s.LOG_FORMAT ? { logFormat: s.LOG_FORMAT } : {}),
    embeddedRunner:
      s.KOZMIC_EMBEDDED_RUNNER === "auto"
        ? s.KOZMIC_QUEUE_URL === undefined
        : s.KOZMIC_EMBEDDED_RUNNER === "true",
  };
}

/** PRIVATE_KEY as PEM (with real or `\n`-escaped newlines) or base64 of it, else PRIVATE_KEY_PATH. */
function readPrivateKey(inline: string | undefined, path: string | undefined): string {
  if (inline) {
    const text = inline.includes("-----BEGIN")
      ? inline.replace(/\\n/g, "\n")
      : Buffer.from(inline, "base64").toString("utf8");
    if (!text.includes("-----BEGIN") || !text.includes("PRIVATE KEY-----")) {
      throw new SettingsError(
        "PRIVATE_KEY must be the app's private key in PEM form (-----BEGIN RSA PRIVATE KEY-----...) or base64 of it",
      );
    }
    return text;
  }
  if (!path) {
    throw new SettingsError(
      "PRIVATE_KEY or PRIVATE_KEY_PATH is required: the .pem file generated on the GitHub App's settings page",
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SettingsError(
      `PRIVATE_KEY_PATH: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  if (!text.includes("PRIVATE KEY-----")) {
    throw new SettingsError(`PRIVATE_KEY_PATH: ${path} holds no PEM private key`);
  }
  return text;
}
