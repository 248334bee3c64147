import { Probot, type Logger } from "probot";
import {
  kozmicOctokit,
  type InstallationOctokitOptions,
} from "../checks/create-installation-octokit.js";
import { observedFetch } from "../checks/github-api-observer.js";
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
