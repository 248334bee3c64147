import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RegisteredApp } from "./exchange-manifest-code.js";

/** The file in the data directory where a registered App's settings are kept. */
export function savedEnvPath(dataDir: string): string {
  return join(dataDir, ".env");
}

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
 * Writes the App's settings to <dataDir>/.env, readable by this user only (0600), replacing
 * the file whole so it is never seen half written.
 */
export async function saveCredentials(
  dataDir: string,
  env: Record<string, string>,
  app: RegisteredApp,
): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = savedEnvPath(dataDir);
  const text = [
    `# GitHub App "${app.name}" (${app.htmlUrl}), registered by kozmic serve on ${new Date().toISOString()}.`,
    "# Secrets: keep this file private. kozmic serve reads it at start; the environment wins.",
    ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
    "",
  ].join("\n");
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
  return file;
}

/** Reads <dataDir>/.env into `env` for the variables not set there; false when there is none. */
export function loadSavedCredentials(dataDir: string): boolean {
  const file = savedEnvPath(dataDir);
  if (!existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

/** True when none of the App's credentials is set: `kozmic serve` then offers to register one. */
export function lacksAppCredentials(env: NodeJS.ProcessEnv): boolean {
  return ["APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET"].every(
    (name) => (env[name] ?? "").trim() === "",
  );
}
