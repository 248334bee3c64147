import { access, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { InfrastructureError, PermanentError } from "../../src/core/errors.js";
import { withKeyLock } from "../pipeline/key-lock.js";
import { markMirrorUsed } from "./prune-mirrors.js";
import { GitCommandError, runGit } from "./run-git.js";

export interface MirrorRequest {
  /** Where mirrors live: `<dataDir>/mirrors/<repositoryId>.git`. */
  dataDir: string;
  repositoryId: number | string;
  /** The repository's `clone_url` as GitHub reports it (GitHub Enterprise Server works). */
  cloneUrl: string;
  /** The commit the job needs. */
  sha: string;
  /** `refs/heads/main`, `refs/pull/7/head`, ...: fetched first, as the sha's likely tip. */
  ref?: string;
  pullRequest?: number;
  /** Installation token; goes to git only through its environment. */
  token: string;
  signal?: AbortSignal;
}

/** The header git sends, in the child's environment only: never argv, never a file. */
export function gitAuthEnv(token: string): { env: Record<string, string>; secrets: string[] } {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return {
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    },
    secrets: [token, basic],
  };
}

/**
 * Lock files a git killed mid-fetch left behind. Only called while holding the mirror's
 * lock, so no other git works on it; without this, every later fetch would fail.
 */
async function removeStaleLocks(mirror: string): Promise<void> {
  const top = await readdir(mirror, { withFileTypes: true }).catch(() => []);
  const refs = await readdir(join(mirror, "refs"), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  for (const entry of [...top, ...refs]) {
    if (entry.isFile() && entry.name.endsWith(".lock")) {
      await rm(join(entry.parentPath, entry.name), { force: true });
    }
  }
}

/** The refspec that brings the job's commit: the pull request head or the pushed ref. */
function refspecs(request: MirrorRequest): string[] {
  if (request.pullRequest !== undefined) {
    const ref = `refs/pull/${request.pullRequest}/head`;
    return [`+${ref}:${ref}`];
  }
  if (request.ref && /^refs\/(heads|tags|pull)\/[^\s:~^?*[\\]+$/.test(request.ref)) {
    return [`+${request.ref}:${request.ref}`];
  }
  return [];
}

function hasCommit(mirror: string, sha: string): Promise<boolean> {
  return runGit(["--git-dir", mirror, "cat-file", "-e", `${sha}^{commit}`]).then(
    () => true,
    () => false,
  );
}

function isUnknownObject(error: GitCommandError): boolean {
  return /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not a valid object/i.test(
    error.stderr,
  );
}

/**
 * The failed fetch as the job's error. A fetch that ran out of disk first has what it left
 * in the mirror removed (objects no ref reaches and git's temporary files): left there,
 * they would keep the disk full (the job's own log could not be stored).
 */
async function fetchFailed(
  mirror: string,
  error: unknown,
  request: MirrorRequest,
): Promise<InfrastructureError> {
  const detail = error instanceof GitCommandError ? error.stderr || error.message : String(error);
  if (/No space left on device|ENOSPC/i.test(detail)) {
    await runGit(["--git-dir", mirror, "prune", "--expire=now"]).catch(() => {});
  }
  const url = new URL(request.cloneUrl);
  const where = `${url.host}${url.pathname}`;
  const auth = /authentication|401|403|could not read username|invalid username/i.test(detail);
  return new InfrastructureError(
    auth
      ? `git fetch from ${where} was refused (authentication failed): ${detail}`
      : `git fetch from ${where} failed: ${detail}`,
  );
}

/**
 * Makes sure the repository's bare mirror on this host holds `sha`, fetching only what is
 * missing. Fetches of one repository are serialised across jobs and processes. Throws
 * InfrastructureError when git cannot reach or authenticate (message without the token),
 * PermanentError when the repository has no such commit. Returns the mirror's path.
 */
export async function updateMirror(request: MirrorRequest): Promise<string> {
  if (!/^[0-9a-f]{40}$/.test(request.sha)) {
    throw new PermanentError(`"${request.sha}" is not a full commit sha`);
  }
  const id = String(request.repositoryId).replace(/[^A-Za-z0-9_.-]/g, "_");
  const mirrors = join(request.dataDir, "mirrors");
  const mirror = join(mirrors, `${id}.git`);
  return withKeyLock(
    request.dataDir,
    `mirror-${id}`,
    async () => {
      await mkdir(mirrors, { recursive: true, mode: 0o700 });
      const exists = await access(join(mirror, "HEAD")).then(
        () => true,
        () => false,
      );
      if (!exists) await runGit(["init", "--quiet", "--bare", mirror]);
      else await removeStaleLocks(mirror);
      await markMirrorUsed(mirror);
      if (await hasCommit(mirror, request.sha)) return mirror;
      const { env, secrets } = gitAuthEnv(request.token);
      const fetch = (specs: string[]) =>
        runGit(
          [
            "--git-dir",
            mirror,
            "fetch",
            "--quiet",
            "--no-write-fetch-head",
            request.cloneUrl,
            ...specs,
          ],
          { env, secrets, ...(request.signal ? { signal: request.signal } : {}) },
        );
      const specs = refspecs(request);
      if (specs.length > 0) {
        try {
          await fetch(specs);
        } catch (error) {
          // A ref deleted since the event is fine: the sha itself is fetched next.
          if (!(error instanceof GitCommandError && isUnknownObject(error))) {
            throw await fetchFailed(mirror, error, request);
          }
        }
        if (await hasCommit(mirror, request.sha)) return mirror;
      }
      try {
        await fetch([`+${request.sha}:refs/kozmic/${request.sha}`]);
      } catch (error) {
        if (error instanceof GitCommandError && isUnknownObject(error)) {
          throw new PermanentError(
            `commit ${request.sha} is not in ${new URL(request.cloneUrl).pathname.replace(/^\//, "")}` +
              " (was it force-pushed away?)",
          );
        }
        throw await fetchFailed(mirror, error, request);
      }
      if (!(await hasCommit(mirror, request.sha))) {
        throw new PermanentError(`commit ${request.sha} is not in the fetched repository`);
      }
      return mirror;
    },
    request.signal,
  );
}
