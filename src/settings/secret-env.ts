import { SettingsError } from "./settings-error.js";
import { withoutBlanks } from "./read-settings.js";
import type { Env } from "./settings-group.js";

/**
 * The keys of the one Secrets Manager secret KOZMIC_SECRET_ARN names: a JSON object of
 * strings, as infra/ creates it. An empty string counts as unset (GITHUB_CLIENT_SECRET when
 * nobody signs in).
 */
export const SECRET_KEYS = [
  "PRIVATE_KEY",
  "WEBHOOK_SECRET",
  "GITHUB_CLIENT_SECRET",
  "KOZMIC_SESSION_SECRET",
] as const;

export type SecretEnv = Record<(typeof SECRET_KEYS)[number], string>;

const SHAPE = `a JSON object with the string keys ${SECRET_KEYS.join(", ")}`;

/**
 * The secret's keys from its SecretString. The messages name the secret and the keys, never
 * a value: JSON.parse's own message would quote the text.
 */
export function parseSecretEnv(arn: string, secretString: string | undefined): SecretEnv {
  const where = `KOZMIC_SECRET_ARN names the secret ${arn}`;
  if (secretString === undefined) {
    throw new SettingsError(
      `${where}, which holds no text (a binary secret?): it must hold ${SHAPE}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new SettingsError(`${where}, whose value is not JSON: it must be ${SHAPE}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SettingsError(`${where}, whose value is not a JSON object: it must be ${SHAPE}`);
  }
  const fields = value as Record<string, unknown>;
  const missing = SECRET_KEYS.filter((key) => !Object.hasOwn(fields, key));
  const notText = SECRET_KEYS.filter(
    (key) => Object.hasOwn(fields, key) && typeof fields[key] !== "string",
  );
  const problems = [
    ...(missing.length > 0
      ? [`${where}, which lacks ${missing.join(", ")}: it must be ${SHAPE}`]
      : []),
    ...(notText.length > 0 ? [`${where}, whose ${notText.join(", ")} must be strings`] : []),
  ];
  if (problems.length > 0) throw new SettingsError(problems);
  return Object.fromEntries(SECRET_KEYS.map((key) => [key, fields[key]])) as SecretEnv;
}

/**
 * The environment the settings are read from: the secret's keys, then the process's own
 * variables over them. A variable set in the Lambda's configuration wins, so that an
 * operator can override one key without editing the secret; a blank one counts as unset.
 */
export function withSecretEnv(env: Env, secret: SecretEnv): Env {
  return { ...secret, ...withoutBlanks(env) };
}
