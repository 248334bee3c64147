import * as z from "zod";
import { parseSecretsKey } from "../secrets/local-key-wrapper.js";
import { parsedVar, patternVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";

/**
 * The key that wraps repositories' data keys: KOZMIC_KMS_KEY_ID (an AWS KMS key) when set,
 * else KOZMIC_SECRETS_KEY; neither, and repository secrets can be neither set nor given to jobs.
 */
export type SecretsSettings = (
  | { kind: "none" }
  | { kind: "local"; key: Buffer }
  | { kind: "kms"; keyId: string; region?: string; endpoint?: string }
) & {
  /** KOZMIC_SECRETS_PREVIOUS_KEY: still opens data keys it wrapped, until `kozmic secrets rotate-key`. */
  previousKeys: Buffer[];
};

/** A 32-byte key, never echoed in a message. */
function keyVar(name: string) {
  return parsedVar(
    parseSecretsKey,
    () =>
      `${name} must be 32 random bytes as 64 hex digits or base64 (e.g. the output of \`openssl rand -hex 32\`); the value set is not (it is not shown)`,
  );
}

const schema = z
  .object({
    KOZMIC_SECRETS_KEY: keyVar("KOZMIC_SECRETS_KEY"),
    KOZMIC_SECRETS_PREVIOUS_KEY: keyVar("KOZMIC_SECRETS_PREVIOUS_KEY"),
    KOZMIC_KMS_KEY_ID: patternVar(
      "KOZMIC_KMS_KEY_ID",
      /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f-]{36})$/,
      "a KMS key id, key ARN, alias name (alias/…) or alias ARN",
    ),
    AWS_REGION: z.string().optional(),
    AWS_ENDPOINT_URL_KMS: z.string().optional(),
  })
  .transform((e): SecretsSettings => {
    const previousKeys = e.KOZMIC_SECRETS_PREVIOUS_KEY ? [e.KOZMIC_SECRETS_PREVIOUS_KEY] : [];
    if (e.KOZMIC_KMS_KEY_ID) {
      // A local key beside a KMS key is kept for reading: moving to KMS is a rotation.
      if (e.KOZMIC_SECRETS_KEY) previousKeys.push(e.KOZMIC_SECRETS_KEY);
      return {
        kind: "kms",
        keyId: e.KOZMIC_KMS_KEY_ID,
        ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
        ...(e.AWS_ENDPOINT_URL_KMS ? { endpoint: e.AWS_ENDPOINT_URL_KMS } : {}),
        previousKeys,
      };
    }
    if (e.KOZMIC_SECRETS_KEY) return { kind: "local", key: e.KOZMIC_SECRETS_KEY, previousKeys };
    return { kind: "none", previousKeys };
  });

export const secretsGroup: SettingsGroup<SecretsSettings> = schemaGroup(schema);
