import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type GetSecretValueCommandOutput,
} from "@aws-sdk/client-secrets-manager";
import { InfrastructureError } from "../core/errors.js";
import { parseSecretEnv, withSecretEnv, type SecretEnv } from "./secret-env.js";
import { SettingsError } from "./settings-error.js";
import type { Env } from "./settings-group.js";

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
export async function envWithSecret(
  env: Env,
  client: () => SecretReader = () => new SecretsManagerClient({}),
): Promise<Env> {
  const arn = env.KOZMIC_SECRET_ARN?.trim();
  if (!arn) return env;
  return withSecretEnv(env, await readSecretEnv(client(), arn));
}
