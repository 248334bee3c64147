import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { InfrastructureError } from "../core/errors.js";
import type { KeyWrapper } from "./key-wrapper.js";

/** The part of a KMS client the wrapper calls. */
export type KmsSender = Pick<KMSClient, "send">;

// KMS checks the encryption context on Decrypt (and CloudTrail logs it): a data key wrapped
// for one repository does not unwrap for another.
const contextOf = (repoId: number) => ({ kozmicRepository: String(repoId) });

/** Wraps data keys with an AWS KMS key (Encrypt/Decrypt; the data key is 32 bytes, under KMS's 4 KB). */
export function kmsKeyWrapper(keyId: string, kms: KmsSender): KeyWrapper {
  const failed = (what: string, error: unknown) =>
    new InfrastructureError(`KMS ${what} with key ${keyId} failed: ${(error as Error).message}`, {
      cause: error,
    });
  return {
    id: `kms:${keyId}`,
    async wrap(dataKey, repoId) {
      try {
        const out = await kms.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: dataKey,
            EncryptionContext: contextOf(repoId),
          }),
        );
        return Buffer.from(out.CiphertextBlob!).toString("base64");
      } catch (error) {
        throw failed("Encrypt", error);
      }
    },
    async unwrap(wrapped, repoId) {
      try {
        const out = await kms.send(
          new DecryptCommand({
            KeyId: keyId,
            CiphertextBlob: Buffer.from(wrapped, "base64"),
            EncryptionContext: contextOf(repoId),
          }),
        );
        return Buffer.from(out.Plaintext!);
      } catch (error) {
        throw failed("Decrypt", error);
      }
    },
  };
}

/** A KMS client for the settings' region and endpoint (AWS_ENDPOINT_URL_KMS, for a stand-in). */
export function openKmsClient(region?: string, endpoint?: string): KMSClient {
  return new KMSClient({ region, endpoint });
}
