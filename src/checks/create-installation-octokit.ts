import { ProbotOctokit } from "probot";
import { observedFetch, timedFetch, type GitHubApiObserver } from "./github-api-observer.js";
import { pacedWrites, unpacedWrites } from "./write-pacing.js";

export type { GitHubApiObserver } from "./github-api-observer.js";

export interface InstallationOctokitOptions {
  /**
   * Multiplies `retry-after` seconds into milliseconds before a rate-limited request is
   * tried again. Default 1000 (real seconds); tests pass 1.
   */
  retryAfterBaseValue?: number;
  /**
   * Writes (POST, PATCH, ...) are paced per installation at GitHub's one a second, with a
   * small burst (write-pacing.ts); tests turn that off. Default true.
   */
  paceWrites?: boolean;
  /** Told of every error answer and rate-limit wait (the process's metrics). */
  observer?: GitHubApiObserver;
  /** Each request given up after this long (timedFetch); none when unset. */
  requestTimeoutMs?: number;
}

const RATE_LIMIT_RETRIES = 3;

/** Throttling and retry settings for any ProbotOctokit (also Probot's own, via its Octokit option). */
export function octokitResilienceOptions(options: InstallationOctokitOptions = {}) {
  const base =
    options.retryAfterBaseValue !== undefined
      ? { retryAfterBaseValue: options.retryAfterBaseValue }
      : {};
  const observer = options.observer;
  const waitOrGiveUp = (kind: "primary" | "secondary", seconds: number, retryCount: number) => {
    if (retryCount >= RATE_LIMIT_RETRIES) return false;
    observer?.rateLimitWait(kind, seconds);
    return true;
  };
  return {
    retry: { ...base },
    throttle: {
      enabled: true,
      ...base,
      write: options.paceWrites === false ? unpacedWrites() : pacedWrites,
      // Retry both kinds of rate limit a few times, then let the caller see the error.
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        waitOrGiveUp("primary", retryAfter, retryCount),
      onSecondaryRateLimit: (
        retryAfter: number,
        _options: unknown,
        _octokit: unknown,
        retryCount: number,
      ) => waitOrGiveUp("secondary", retryAfter, retryCount),
    },
    ...(observer ? { request: { fetch: observedFetch(observer) } } : {}),
  };
}

/**
 * ProbotOctokit with Kozmic's retry and throttling settings laid over Probot's own. Probot
 * puts its throttle options (which never retry a secondary rate limit) on every instance;
 * a function default runs after Probot's, so ours win field by field.
 */
export function kozmicOctokit(options: InstallationOctokitOptions = {}): typeof ProbotOctokit {
  const { request: _request, ...resilience } = octokitResilienceOptions(options);
  const { observer, requestTimeoutMs } = options;
  return ProbotOctokit.defaults((instance: Record<string, unknown>) => {
    const installationId = (instance.auth as { installationId?: number } | undefined)
      ?.installationId;
    const request = instance.request as { fetch?: typeof globalThis.fetch } | undefined;
    let fetch = request?.fetch;
    if (requestTimeoutMs !== undefined) fetch = timedFetch(requestTimeoutMs, fetch);
    if (observer) fetch = observedFetch(observer, fetch);
    return {
      ...instance,
      retry: { ...(instance.retry as object | undefined), ...resilience.retry },
      throttle: {
        ...(instance.throttle as object | undefined),
        ...resilience.throttle,
        // Octokit paces writes per throttle id, one process-wide "no-id" by default; GitHub's
        // secondary limits are per token, so one busy installation need not hold up others.
        ...(installationId !== undefined ? { id: `installation-${installationId}` } : {}),
      },
      // Probot may bring a fetch of its own (its `request` option): time and observe that one.
      ...(fetch !== request?.fetch ? { request: { ...request, fetch } } : {}),
    };
  }) as typeof ProbotOctokit;
}

/**
 * An Octokit authenticated as one installation of the app, with Octokit's retry (5xx) and
 * throttling (rate limits) plugins on, for code that runs outside a webhook (the runner).
 */
export function createInstallationOctokit(
  appId: number | string,
  privateKey: string,
  installationId: number,
  baseUrl = "https://api.github.com",
  options: InstallationOctokitOptions = {},
): InstanceType<typeof ProbotOctokit> {
  const Octokit = kozmicOctokit(options);
  return new Octokit({ auth: { appId, privateKey, installationId }, baseUrl });
}
