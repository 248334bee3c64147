import { GitHubUnavailableError } from "./github-user-api.js";
import type { RepositoryRef } from "./web-deps.js";

/** The part of an Octokit the finder uses. */
export interface RequestOnly {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}

/**
 * As Probot's `probot.auth`: no id gives an Octokit authenticated as the app (JWT), an
 * installation id one authenticated as that installation.
 */
export type AppAuth = (installationId?: number) => Promise<RequestOnly>;

/**
 * A `WebDeps.findRepository` that asks GitHub as the app: the repository's installation
 * (`GET /repos/{owner}/{repo}/installation`), then the repository with that installation's
 * token. Answers are kept for `ttlMs` (repositories not installed for a tenth of it).
 */
export function createRepositoryFinder(auth: AppAuth, ttlMs = 5 * 60_000, now = () => Date.now()) {
  const cache = new Map<string, { repo: RepositoryRef | undefined; until: number }>();
  return async function findRepository(fullName: string): Promise<RepositoryRef | undefined> {
    const key = fullName.toLowerCase();
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.repo;
    const [owner, repo] = fullName.split("/");
    let found: RepositoryRef | undefined;
    try {
      const app = await auth();
      const { data: installation } = await app.request("GET /repos/{owner}/{repo}/installation", {
        owner,
        repo,
      });
      const installed = await auth((installation as { id: number }).id);
      const { data } = await installed.request("GET /repos/{owner}/{repo}", { owner, repo });
      const r = data as { id: number; full_name: string; private: boolean };
      found = {
        id: r.id,
        fullName: r.full_name,
        private: r.private,
        installationId: (installation as { id: number }).id,
      };
    } catch (error) {
      if ((error as { status?: number }).status !== 404) {
        throw new GitHubUnavailableError(`GitHub could not say whether ${fullName} exists`, {
          cause: error,
        });
      }
    }
    if (cache.size > 5000) cache.clear();
    cache.set(key, { repo: found, until: now() + (found ? ttlMs : ttlMs / 10) });
    return found;
  };
}
