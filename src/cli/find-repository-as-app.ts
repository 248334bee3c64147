import { ProbotOctokit } from "probot";
import { createInstallationOctokit } from "../checks/create-installation-octokit.js";
import { PermanentError } from "../core/errors.js";
import type { AppCredentials } from "../settings/app-credentials.js";
import { createRepositoryFinder } from "../web/find-repository-with-app.js";
import type { RepositoryRef } from "../web/web-deps.js";

/**
 * The repository `fullName` as the app sees it (its id is what secrets are kept under);
 * a PermanentError when the app is not installed on it.
 */
export async function findRepositoryAsApp(
  credentials: AppCredentials,
  fullName: string,
): Promise<RepositoryRef & { installationId: number }> {
  const { appId, privateKey, baseUrl } = credentials;
  const find = createRepositoryFinder(async (installationId) =>
    installationId === undefined
      ? new ProbotOctokit({ auth: { appId, privateKey }, baseUrl })
      : createInstallationOctokit(appId, privateKey, installationId, baseUrl, {
          paceWrites: false,
        }),
  );
  const found = await find(fullName);
  const installationId = found?.installationId;
  if (!found || installationId === undefined) {
    throw new PermanentError(
      `${fullName}: no such repository has the GitHub App installed (check the name and the app's installation)`,
    );
  }
  return { ...found, installationId };
}
