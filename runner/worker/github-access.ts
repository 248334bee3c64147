import { setTimeout as sleep } from "node:timers/promises";
import { ChecksReporter, type CheckRunRef } from "../../src/checks/checks-reporter.js";
import {
  createInstallationOctokit,
  type InstallationOctokitOptions,
} from "../../src/checks/create-installation-octokit.js";
import { InfrastructureError } from "../../src/core/errors.js";

/** The App's credentials as the runner gets them (never from a queue message). */
export interface GitHubDeps {
  appId: number;
  privateKey: string;
  /** REST API base; GitHub Enterprise Server and the fake GitHub set it. */
  baseUrl?: string;
  /** Tests pass `{ paceWrites: false, retryAfterBaseValue: 1 }`. */
  octokitOptions?: InstallationOctokitOptions;
  /** Backoff of the runner's own retries of a GitHub write, doubled per try. Default 1000 ms. */
  retryBaseMs?: number;
  /** Tries of a GitHub write that must arrive (in progress, completion). Default 8. */
  attempts?: number;
}

export interface InstallationAccess {
  reporter: ChecksReporter;
  /** Puts a check run back to queued, saying why, when its job returns to the queue. */
  requeue(ref: CheckRunRef, why: string): Promise<void>;
  /** A short-lived installation token, for git only; cached by Octokit until near expiry. */
  token(): Promise<string>;
}

/** One authenticated Octokit (and reporter) per installation, minted from the App's key. */
export function createGitHubAccess(deps: GitHubDeps, progressIntervalMs: number) {
  const cache = new Map<number, InstallationAccess>();
  return (installationId: number): InstallationAccess => {
    let access = cache.get(installationId);
    if (!access) {
      const octokit = createInstallationOctokit(
        deps.appId,
        deps.privateKey,
        installationId,
        deps.baseUrl,
        deps.octokitOptions,
      );
      access = {
        reporter: new ChecksReporter(octokit, { progressIntervalMs }),
        async requeue(ref, why) {
          await octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
            owner: ref.owner,
            repo: ref.repo,
            check_run_id: ref.checkRunId,
            status: "queued",
            output: {
              title: "Queued again",
              summary: `This attempt did not finish (${why}); the job is back in the queue and runs again.`,
            },
            actions: [{ label: "Cancel", description: "Stop this job", identifier: "cancel" }],
          });
        },
        async token() {
          const auth = (await octokit.auth({ type: "installation" })) as { token?: string };
          if (!auth.token) throw new InfrastructureError("GitHub returned no installation token");
          return auth.token;
        },
      };
      cache.set(installationId, access);
    }
    return access;
  };
}

/** Status of an Octokit RequestError, if it is one. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Retries a GitHub call through an outage (5xx, rate limits, network) with doubling
 * backoff, on top of Octokit's own few retries; a 4xx other than 403/429 is final. Throws
 * InfrastructureError when GitHub stays unavailable.
 */
export async function withGitHubRetry<T>(
  what: string,
  action: () => Promise<T>,
  deps: Pick<GitHubDeps, "retryBaseMs" | "attempts">,
): Promise<T> {
  const attempts = deps.attempts ?? 8;
  const base = deps.retryBaseMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const status = httpStatus(error);
      const final =
        status !== undefined && status >= 400 && status < 500 && status !== 403 && status !== 429;
      if (final || attempt >= attempts) {
        throw new InfrastructureError(
          `GitHub: ${what} failed${status ? ` (HTTP ${status})` : ""}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      await sleep(Math.min(base * 2 ** (attempt - 1), 30_000));
    }
  }
}
