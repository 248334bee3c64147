import type { RequestOctokit } from "../checks/checks-reporter.js";
import {
  createInstallationOctokit,
  type InstallationOctokitOptions,
} from "../checks/create-installation-octokit.js";

/**
 * One Octokit per installation, made from the App's key, for a planner outside the app's
 * server (in a runner): each keeps its token until near expiry and paces its own writes.
 */
export function installationOctokits(app: {
  appId: number;
  privateKey: string;
  baseUrl?: string;
  octokitOptions?: InstallationOctokitOptions;
}): (installationId: number) => Promise<RequestOctokit> {
  const made = new Map<number, RequestOctokit>();
  return async (installationId) => {
    const { appId, privateKey, baseUrl, octokitOptions } = app;
    const octokit =
      made.get(installationId) ??
      createInstallationOctokit(appId, privateKey, installationId, baseUrl, octokitOptions);
    made.set(installationId, octokit);
    return octokit;
  };
}
