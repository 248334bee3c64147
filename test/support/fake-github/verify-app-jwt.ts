import { createVerify, type KeyObject } from "node:crypto";

/** Returns the app id (`iss`) of a well-formed, unexpired RS256 JWT signed by `publicKey`, else an error. */
export function verifyAppJwt(
  token: string,
  publicKey: KeyObject | string,
  nowSeconds = Math.floor(Date.now() / 1000),
): { ok: true; appId: string } | { ok: false; error: string } {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, error: "the JWT must have three parts" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { iss?: string | number; exp?: number; iat?: number };
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8")) as typeof header;
    payload = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8")) as typeof payload;
  } catch {
    return { ok: false, error: "the JWT header or payload is not base64url JSON" };
  }
  if (header.alg !== "RS256") return { ok: false, error: "the JWT must use RS256" };
  const verifier = createVerify("RSA-SHA256");
  verifier.update(`${headerPart}.${payloadPart}`);
  if (!verifier.verify(publicKey, Buffer.from(signaturePart, "base64url"))) {
    return { ok: false, error: "the JWT signature does not match the app's public key" };
  }
  if (payload.iss === undefined) return { ok: false, error: "the JWT has no iss (app id)" };
  if (typeof payload.exp !== "number" || payload.exp < nowSeconds) {
    return { ok: false, error: "the JWT is expired or has no exp" };
  }
  // GitHub refuses tokens valid for more than 10 minutes.
  if (typeof payload.iat === "number" && payload.exp - payload.iat > 660) {
    return { ok: false, error: "the JWT is valid for more than 10 minutes" };
  }
  return { ok: true, appId: String(payload.iss) };
}
