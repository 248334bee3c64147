/** What to do with a planning message whose handling threw. */
export type AfterFailure =
  { action: "retry"; delaySeconds: number; why: string } | { action: "drop"; why: string };

export interface RetryPolicy {
  /** First wait; doubles per receive. */
  baseSeconds: number;
  maxSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseSeconds: 2, maxSeconds: 300 };

/**
 * A GitHub answer that retrying cannot change: the repository or installation is gone
 * (404, 410), the app may not do this (401, or a 403 that is not a rate limit), or GitHub
 * refused the request itself (422). Everything else — 5xx, rate limits, timeouts, a
 * network error, our own store or queue failing — is worth waiting out.
 */
export function isPermanent(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  if (typeof status !== "number") return false;
  if (status === 403) {
    const message = String((error as Error).message ?? "");
    return !/rate limit|abuse/i.test(message);
  }
  return status === 401 || status === 404 || status === 410 || status === 422;
}

/** Retry with doubling backoff by visibility (the n-th receive waits base·2^(n-1)), or drop. */
export function decideAfterFailure(
  error: unknown,
  receiveCount: number,
  policy: RetryPolicy = DEFAULT_RETRY,
): AfterFailure {
  const status = (error as { status?: unknown }).status;
  const what = `${typeof status === "number" ? `HTTP ${status}: ` : ""}${(error as Error).message ?? String(error)}`;
  if (isPermanent(error)) return { action: "drop", why: what };
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 20);
  const delaySeconds = Math.min(policy.maxSeconds, Math.ceil(policy.baseSeconds * 2 ** exponent));
  return { action: "retry", delaySeconds, why: what };
}
