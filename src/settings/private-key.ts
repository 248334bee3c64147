import { createPrivateKey } from "node:crypto";

/**
 * The app's private key as PEM, from any form PRIVATE_KEY takes: PEM with real newlines,
 * PEM with `\n` escapes (one-line .env files), or base64 of the PEM (secret stores that
 * dislike newlines). Undefined when the text holds no usable private key.
 */
export function decodePrivateKey(text: string): string | undefined {
  const pem = text.includes("-----BEGIN")
    ? text.replace(/\\n/g, "\n")
    : Buffer.from(text.trim(), "base64").toString("utf8");
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return undefined;
  try {
    // Caught here rather than as a JWT signing failure on the first webhook or job.
    createPrivateKey(pem);
  } catch {
    return undefined;
  }
  return pem;
}
