import { createHash } from "node:crypto";
import { getRepoPermissions, GitHubUnavailableError } from "./github-user-api.js";

export interface Viewer {
  login: string;
  token: string;
  /** Random per login; CSRF tokens are bound to it. */
  sessionId: string;
}

export interface Access {
  read: boolean;
  write: boolean;
  /** Admin permission: managing the repository's secrets. */
  admin: boolean;
}

/**
 * Decides what a viewer may do with a repository: anyone reads a public one; a private one
 * needs a login with read access; re-run and cancel need push access; secrets need admin.
 * GitHub's answer is remembered for `ttlMs` (10 s) per user token and repository, for pages;
 * `fresh` asks GitHub again (every POST does: a demoted admin acts on nothing).
 */
export function createAccessChecker(githubApiUrl: string, ttlMs = 10_000, now = () => Date.now()) {
  const cache = new Map<string, { access: Access; until: number }>();
  return async function checkAccess(
    repo: { fullName: string; private: boolean },
    viewer: Viewer | undefined,
    options: { fresh?: boolean } = {},
  ): Promise<Access> {
    if (!viewer) return { read: !repo.private, write: false, admin: false };
    const key = `${createHash("sha256").update(viewer.token).digest("hex")}|${repo.fullName.toLowerCase()}`;
    const hit = cache.get(key);
    if (!options.fresh && hit && hit.until > now()) return hit.access;
    let access: Access;
    try {
      access = await getRepoPermissions(githubApiUrl, viewer.token, repo.fullName);
    } catch (error) {
      // GitHub down: public logs stay readable, nothing private is shown, no one acts. A
      // private repository reads as no access whatever went wrong, so its pages answer the
      // 404 of an unknown id (any other answer would tell a visitor that the id exists).
      if (!repo.private) return { read: true, write: false, admin: false };
      console.warn(`kozmic web: access to ${repo.fullName} unknown: ${explainFailure(error)}`);
      return { read: false, write: false, admin: false };
    }
    if (!repo.private) access = { ...access, read: true };
    if (cache.size > 5000) cache.clear();
    cache.set(key, { access, until: now() + ttlMs });
    return access;
  };
}

export type CheckAccess = ReturnType<typeof createAccessChecker>;

/** GitHub's unavailability in a line; anything else (a bug) with its stack. */
function explainFailure(error: unknown): string {
  if (error instanceof GitHubUnavailableError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
