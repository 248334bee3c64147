import { FakeGitHub } from "./fake-github/fake-github.js";
import { generateAppKey, signAppJwt, type TestAppKey } from "./fake-github/app-key.js";
import { attachGitHttp, type FakeGitHttp } from "./fake-github/git-http.js";
import { createGitRepo, type GitRepo } from "./git-repos.js";

/** A fake GitHub serving git, with one installed repository holding real commits. */
export interface GitFixture {
  fake: FakeGitHub;
  http: FakeGitHttp;
  appKey: TestAppKey;
  repo: GitRepo;
  repositoryId: number;
  installationId: number;
  cloneUrl: string;
  /** A fresh installation token, minted through the fake's API as the runner would. */
  mintToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startGitFixture(
  options: { fullName?: string; private?: boolean; installationId?: number } = {},
): Promise<GitFixture> {
  const appKey = generateAppKey();
  const fake = await FakeGitHub.start({ appPublicKey: appKey.publicKeyPem });
  const http = attachGitHttp(fake);
  const installationId = options.installationId ?? 4242;
  const fullName = options.fullName ?? "octo/widgets";
  const record = fake.addRepository({
    fullName,
    installationId,
    private: options.private ?? true,
  });
  const repo = createGitRepo(fake, http, fullName);
  return {
    fake,
    http,
    appKey,
    repo,
    repositoryId: record.id,
    installationId,
    cloneUrl: `${fake.origin}/${fullName}.git`,
    async mintToken() {
      const response = await fetch(
        `${fake.url}/app/installations/${installationId}/access_tokens`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${signAppJwt(fake.appId, appKey.privateKeyPem)}`,
            accept: "application/vnd.github+json",
          },
        },
      );
      if (response.status !== 201) throw new Error(`token request failed: ${response.status}`);
      return ((await response.json()) as { token: string }).token;
    },
    async close() {
      http.close();
      await fake.close();
    },
  };
}
