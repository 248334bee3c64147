import type {
  GetSecretValueCommand,
  GetSecretValueCommandOutput,
} from "@aws-sdk/client-secrets-manager";
import { InfrastructureError } from "../core/errors.js";
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
  const problems: string[] = [];
  if (missing.length > 0)
    problems.push(`${where}, which lacks ${missing.join(", ")}: it must be ${SHAPE}`);
  if (notText.length > 0) problems.push(`${where}, whose ${notText.join(", ")} must be strings`);
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

/** The part of SecretsManagerClient this reads with. */
export interface SecretReader {
  send(command: GetSecretValueCommand): Promise<Pick<GetSecretValueCommandOutput, "SecretString">>;
}

/** Errors that no retry fixes: the secret or the Lambda's permissions are wrong. */
const SETTINGS_FAULTS = new Set([
  "ResourceNotFoundException",
  "AccessDeniedException",
  "InvalidParameterException",
  "InvalidRequestException",
  "DecryptionFailure",
  "ValidationException",
]);

/** The secret's keys (see SECRET_KEYS), read with GetSecretValue. */
export async function readSecretEnv(client: SecretReader, arn: string): Promise<SecretEnv> {
  // The SDK only where a secret is read: infra/ and `kozmic setup` need SECRET_KEYS alone.
  const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  let output: Pick<GetSecretValueCommandOutput, "SecretString">;
  try {
    output = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  } catch (error) {
    const { name, message } = error as Error;
    const problem = `KOZMIC_SECRET_ARN names the secret ${arn}, which could not be read: ${name}: ${message}`;
    if (SETTINGS_FAULTS.has(name)) {
      throw new SettingsError(
        `${problem} (the function's role needs secretsmanager:GetSecretValue on that secret, and kms:Decrypt on its key when it has its own)`,
      );
    }
    throw new InfrastructureError(problem, { cause: error });
  }
  return parseSecretEnv(arn, output.SecretString);
}

/**
 * The environment with KOZMIC_SECRET_ARN's secret merged in (see withSecretEnv), or the
 * environment as it is when that is unset.
 */
export async function envWithSecret(env: Env, client?: () => SecretReader): Promise<Env> {
  const arn = env.KOZMIC_SECRET_ARN?.trim();
  if (!arn) return env;
  const reader =
    client?.() ?? new (await import("@aws-sdk/client-secrets-manager")).SecretsManagerClient({});
  return withSecretEnv(env, await readSecretEnv(reader, arn));
}
