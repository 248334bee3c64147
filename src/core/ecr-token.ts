/** An ECR authorization token, decoded: Docker credentials valid until `expiresAt`. */
export interface RegistryToken {
  username: string;
  password: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** ECR's authorizationToken is base64 of `user:password` (the user is always `AWS`). */
export function decodeEcrToken(authorizationToken: string, expiresAt: number): RegistryToken {
  const text = Buffer.from(authorizationToken, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1)
    throw new Error("ECR returned an authorization token that is not base64 of user:password");
  return { username: text.slice(0, colon), password: text.slice(colon + 1), expiresAt };
}

/**
 * Whether a token must be fetched again before use: none yet, or it expires within
 * `marginMs` (ECR tokens last 12 hours; a push of a large image must not outlive its token).
 */
export function tokenNeedsRefresh(
  token: RegistryToken | undefined,
  now: number,
  marginMs = 30 * 60_000,
): boolean {
  return token === undefined || token.expiresAt - marginMs <= now;
}
