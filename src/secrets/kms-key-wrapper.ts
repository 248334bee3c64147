import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { InfrastructureError } from "../core/errors.js";
import type { KeyWrapper } from "./key-wrapper.js";

/**
 * Wraps data keys with an AWS KMS key (Encrypt/Decrypt; the data key is 32 bytes, under KMS's
 * 4 KB), through a client for the settings' region and endpoint (AWS_ENDPOINT_URL_KMS, for a
 * stand-in).
 */
export function kmsKeyWrapper(keyId: string, region?: string, endpoint?: string): KeyWrapper {
  const kms = new KMSClient({ region, endpoint });
  const call = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      const message = `KMS ${what} with key ${keyId} failed: ${(error as Error).message}`;
      throw new InfrastructureError(message, { cause: error });
    }
  };
  // KMS checks the encryption context on Decrypt (and CloudTrail logs it): a data key wrapped
  // for one repository does not unwrap for another.
  const context = (repoId: number) => ({ kozmicRepository: String(repoId) });
  return {
    id: `kms:${keyId}`,
    async wrap(dataKey, repoId) {
      const out = await call("Encrypt", () =>
        kms.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: dataKey,
            EncryptionContext: context(repoId),
          }),
        ),
      );
      return Buffer.from(out.CiphertextBlob!).toString("base64");
    },
    async unwrap(wrapped, repoId) {
      const out = await call("Decrypt", () =>
        kms.send(
          new DecryptCommand({
            KeyId: keyId,
            CiphertextBlob: Buffer.from(wrapped, "base64"),
            EncryptionContext: context(repoId),
          }),
        ),
      );
      return Buffer.from(out.Plaintext!);
    },
  };
}
