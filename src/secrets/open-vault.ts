import { PermanentError } from "../core/errors.js";
import type { SecretsSettings } from "../settings/secrets-settings.js";
import { localKeyWrapper } from "./local-key-wrapper.js";
import type { SecretOperations } from "../store/port.js";
import { SecretVault } from "./secret-vault.js";

/** Secrets are asked for where no key is set. */
export class NoSecretsKeyError extends PermanentError {
  constructor(where: string) {
    super(
      `repository secrets need a key on ${where}: set KOZMIC_SECRETS_KEY (e.g. \`openssl rand -hex 32\`, ` +
        "the same on every host that sets or runs them) or KOZMIC_KMS_KEY_ID",
    );
  }
}

/** The vault for the settings' key; undefined when none is set. */
export async function openVault(
  settings: SecretsSettings,
  store: SecretOperations,
): Promise<SecretVault | undefined> {
  const previous = settings.previousKeys.map((key) => localKeyWrapper(key));
  if (settings.kind === "local")
    return new SecretVault(store, localKeyWrapper(settings.key), previous);
  if (settings.kind === "kms") {
    const { kmsKeyWrapper } = await import("./kms-key-wrapper.js");
    const kms = kmsKeyWrapper(settings.keyId, settings.region, settings.endpoint);
    return new SecretVault(store, kms, previous);
  }
  return undefined;
}
