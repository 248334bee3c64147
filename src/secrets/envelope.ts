import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// AES-256-GCM with a random 96-bit nonce. The associated data binds a ciphertext to where it
// belongs (a repository, a secret's name): moved to another record, it no longer decrypts.

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The version of the sealed form, in front of every sealed value. */
const FORMAT = "v1";

/** Raised when a sealed value is not one, was altered, or the key is not the one that sealed it. */
export class SealError extends Error {
  override name = "SealError";
}

/** A fresh 256-bit key. */
export function newDataKey(): Buffer {
  return randomBytes(32);
}

/** `plaintext` sealed under `key`, as `v1:` + base64(nonce | ciphertext | tag). */
export function seal(key: Buffer, plaintext: Buffer, associatedData: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${FORMAT}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64")}`;
}

/** The plaintext of `sealed`; SealError unless `key` and `associatedData` are the sealing ones. */
export function unseal(key: Buffer, sealed: string, associatedData: string): Buffer {
  const [format, encoded] = sealed.split(":", 2);
  const raw = Buffer.from(encoded ?? "", "base64");
  if (format !== FORMAT || raw.length < NONCE_BYTES + TAG_BYTES) {
    throw new SealError("not a sealed value of this version");
  }
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(associatedData, "utf8"));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new SealError("the key does not open this value, or it was altered", { cause: error });
  }
}
