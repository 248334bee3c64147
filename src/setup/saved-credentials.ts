import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RegisteredApp } from "./app-manifest.js";

/** The variables `kozmic serve` needs as the App, and for sign-in on the log pages. */
export function credentialsEnv(app: RegisteredApp): Record<string, string> {
  return {
    APP_ID: String(app.id),
    // base64 of the PEM: one line, no quoting (the settings accept this form).
    PRIVATE_KEY: Buffer.from(app.pem).toString("base64"),
    WEBHOOK_SECRET: app.webhookSecret,
    GITHUB_CLIENT_ID: app.clientId,
    GITHUB_CLIENT_SECRET: app.clientSecret,
    KOZMIC_SESSION_SECRET: randomBytes(32).toString("hex"),
  };
}

/**
 * What set-up saves beside the App's credentials, so that every later command on this host
 * (`kozmic secrets`, `doctor`, `runner`) finds the same GitHub and a secrets key: the
 * GitHub Enterprise Server address it registered on, the public URL the App's webhook and
 * links point to, and a new KOZMIC_SECRETS_KEY unless a key (or a KMS key) is already set.
 */
export function hostSettingsToSave(env: NodeJS.ProcessEnv): Record<string, string> {
  const set = (name: string) => env[name]?.trim() || undefined;
  return {
    ...(set("GHE_HOST") ? { GHE_HOST: set("GHE_HOST")! } : {}),
    ...(set("GHE_PROTOCOL") ? { GHE_PROTOCOL: set("GHE_PROTOCOL")! } : {}),
    ...(set("KOZMIC_PUBLIC_URL") ? { KOZMIC_PUBLIC_URL: set("KOZMIC_PUBLIC_URL")! } : {}),
    ...(set("KOZMIC_SECRETS_KEY") || set("KOZMIC_KMS_KEY_ID")
      ? {}
      : { KOZMIC_SECRETS_KEY: randomBytes(32).toString("hex") }),
  };
}

/**
 * Writes the App's settings to <dataDir>/.env, readable by this user only (0600), replacing
 * the file whole so it is never seen half written.
 */
export async function saveCredentials(
  dataDir: string,
  env: Record<string, string>,
  app: RegisteredApp,
): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, ".env");
  const text = [
    `# GitHub App "${app.name}" (${app.htmlUrl}), registered by kozmic serve on ${new Date().toISOString()}.`,
    "# Secrets: keep this file private (mode 600). Every kozmic command reads it; the environment wins.",
    ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
    "",
  ].join("\n");
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
  return file;
}

/** True when none of the App's credentials is set: `kozmic serve` then offers to register one. */
export function lacksAppCredentials(env: NodeJS.ProcessEnv): boolean {
  return ["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"].every(
    (name) => (env[name] ?? "").trim() === "",
  );
}
