import { ProbotOctokit } from "probot";
import { createInstallationOctokit } from "../checks/create-installation-octokit.js";
import type { AppCredentials } from "../settings/app-credentials.js";
import { createRepositoryFinder } from "../web/find-repository-with-app.js";
import type { RepositoryRef } from "../web/web-deps.js";

/** The repository `fullName` as the app sees it (its id is what secrets are kept under). */
export async function findRepositoryAsApp(
  credentials: AppCredentials,
  fullName: string,
): Promise<RepositoryRef | undefined> {
  const { appId, privateKey, baseUrl } = credentials;
  const find = createRepositoryFinder(async (installationId) =>
    installationId === undefined
      ? new ProbotOctokit({ auth: { appId, privateKey }, baseUrl })
      : createInstallationOctokit(appId, privateKey, installationId, baseUrl, {
          paceWrites: false,
        }),
  );
  return find(fullName);
}
