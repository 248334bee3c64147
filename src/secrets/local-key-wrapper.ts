import { createHash } from "node:crypto";
import { seal, unseal } from "./envelope.js";
import type { KeyWrapper } from "./key-wrapper.js";

const dataKeyContext = (repoId: number) => `kozmic-data-key:${repoId}`;

/** Wraps data keys with a 256-bit key held by the operator (KOZMIC_SECRETS_KEY). */
export function localKeyWrapper(key: Buffer): KeyWrapper {
  if (key.length !== 32) throw new Error("a secrets key is 32 bytes");
  const fingerprint = createHash("sha256").update("kozmic-secrets-key").update(key).digest("hex");
  return {
    id: `local:${fingerprint.slice(0, 16)}`,
    async wrap(dataKey, repoId) {
      return seal(key, dataKey, dataKeyContext(repoId));
    },
    async unwrap(wrapped, repoId) {
      return unseal(key, wrapped, dataKeyContext(repoId));
    },
  };
}

/**
 * KOZMIC_SECRETS_KEY's value as a key: 64 hex digits or the base64 of 32 bytes (`openssl rand
 * -hex 32`, `openssl rand -base64 32`); undefined for anything else.
 */
export function parseSecretsKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(value)) return Buffer.from(value, "base64");
  return undefined;
}
