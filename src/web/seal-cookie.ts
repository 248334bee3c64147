import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

function keyFor(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "kozmic-web", purpose, 32));
}

/**
 * Encrypts and authenticates a cookie value (AES-256-GCM): the user's GitHub token inside a
 * session cookie is neither readable nor forgeable. `purpose` binds it to one cookie, and
 * `expiresAt` (epoch ms) is checked on opening.
 */
export function sealCookie(
  secret: string,
  purpose: string,
  payload: unknown,
  expiresAt: number,
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(secret, purpose), iv);
  const plain = Buffer.from(JSON.stringify({ p: payload, e: expiresAt }), "utf8");
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

/** The payload, or undefined when the value is forged, damaged, for another purpose or expired. */
export function openCookie(secret: string, purpose: string, value: string): unknown {
  if (value.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const raw = Buffer.from(value, "base64url");
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", keyFor(secret, purpose), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    const parsed = JSON.parse(plain.toString("utf8")) as { p: unknown; e: number };
    return typeof parsed.e === "number" && parsed.e > Date.now() ? parsed.p : undefined;
  } catch {
    return undefined;
  }
}

/** A token bound to one session, for the hidden field of every state-changing form. */
export function csrfTokenFor(secret: string, sessionId: string): string {
  return createHmac("sha256", keyFor(secret, "csrf")).update(sessionId).digest("base64url");
}

export function isCsrfTokenValid(secret: string, sessionId: string, token: unknown): boolean {
  if (typeof token !== "string") return false;
  const expected = Buffer.from(csrfTokenFor(secret, sessionId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function serializeCookie(
  name: string,
  value: string,
  options: { maxAgeSeconds: number; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    "Path=/",
    `Max-Age=${options.maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Lax",
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}
