import { Probot, ProbotOctokit, type Logger } from "probot";
import {
  octokitResilienceOptions,
  type InstallationOctokitOptions,
} from "../checks/create-installation-octokit.js";
import { observedFetch, timedFetch } from "../checks/github-api-observer.js";
import type { ServerSettings } from "../settings/server-settings.js";

/**
 * The App's Probot, for its auth (`probot.auth`) with Kozmic's Octokit; webhooks do not go
 * through it (receive-webhook.ts). Ready once `probot.ready()` resolves (its log then exists).
 */
export function kozmicProbot(
  settings: ServerSettings,
  options: { octokit?: InstallationOctokitOptions; log?: Logger; logFormat?: "json" } = {},
): Probot {
  const { octokit, log, logFormat = settings.logFormat } = options;
  return new Probot({
    appId: settings.appId,
    privateKey: settings.privateKey,
    secret: settings.webhookSecret,
    baseUrl: settings.baseUrl,
    Octokit: kozmicOctokit(octokit),
    // Probot mints installation tokens through a request of its own: observe that one too.
    ...(octokit?.observer ? { request: { fetch: observedFetch(octokit.observer) } } : {}),
    logLevel: settings.logLevel,
    ...(logFormat ? { logFormat } : {}),
    ...(log ? { log } : {}),
  });
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
