import { exchangeWebFlowCode, getWebFlowAuthorizationUrl } from "@octokit/oauth-methods";
import { request } from "@octokit/request";
import { RequestError } from "@octokit/request-error";

/** The calls the log pages make to GitHub as the logged-in user (OAuth web flow, user token). */

const API_HEADERS = {
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
  "user-agent": "kozmic-log-pages",
};
const TIMEOUT_MS = 10_000;

export class GitHubUnavailableError extends Error {
  override name = "GitHubUnavailableError";
}

/** GitHub's OAuth endpoints are on its web host (github.com, or the Enterprise Server's). */
function oauthRequest(githubWebUrl: string) {
  return request.defaults({
    baseUrl: githubWebUrl,
    request: { signal: AbortSignal.timeout(TIMEOUT_MS) },
  });
}

/** Where the browser goes to sign in with the GitHub App; GitHub returns to `redirectUri`. */
export function authorizeUrl(
  githubWebUrl: string,
  clientId: string,
  redirectUri: string,
  state: string,
): string {
  return getWebFlowAuthorizationUrl({
    clientType: "github-app",
    clientId,
    redirectUrl: redirectUri,
    state,
    allowSignup: false,
    request: oauthRequest(githubWebUrl),
  }).url;
}

/** Trades the code GitHub sent back for the user's token; undefined when GitHub refuses it. */
export async function exchangeCode(input: {
  githubWebUrl: string;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
}): Promise<string | undefined> {
  try {
    const { authentication } = await exchangeWebFlowCode({
      clientType: "github-app",
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      code: input.code,
      redirectUrl: input.redirectUri,
      request: oauthRequest(input.githubWebUrl),
    });
    return authentication.token || undefined;
  } catch (error) {
    // A refusal (a used or unknown code) is a 4xx, or an error in a 200 answer (a 400 here).
    if (error instanceof RequestError && error.status < 500) return undefined;
    // Unreachable, a 5xx, or an answer that is not GitHub's JSON (a proxy's error page).
    throw new GitHubUnavailableError(
      `GitHub could not exchange the sign-in code (${String(error)})`,
      { cause: error },
    );
  }
}

export async function getUserLogin(
  githubApiUrl: string,
  token: string,
): Promise<string | undefined> {
  const response = await call(`${githubApiUrl}/user`, token);
  if (response.status === 401 || response.status === 403) return undefined;
  if (!response.ok)
    throw new GitHubUnavailableError(`GitHub answered ${response.status} to GET /user`);
  const body = (await readJson(response, "GET /user")) as { login?: unknown };
  return typeof body.login === "string" ? body.login : undefined;
}

/** What the user may do in a repository, from `GET /repos/{owner}/{repo}` with their token. */
export async function getRepoPermissions(
  githubApiUrl: string,
  token: string,
  fullName: string,
): Promise<{ read: boolean; write: boolean; admin: boolean }> {
  const [owner = "", repo = ""] = fullName.split("/");
  const response = await call(
    `${githubApiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`,
    token,
  );
  if ([401, 403, 404].includes(response.status)) return { read: false, write: false, admin: false };
  if (!response.ok) {
    throw new GitHubUnavailableError(
      `GitHub answered ${response.status} to GET /repos/${fullName}`,
    );
  }
  const body = (await readJson(response, `GET /repos/${fullName}`)) as {
    permissions?: { push?: boolean; maintain?: boolean; admin?: boolean };
  };
  const p = body.permissions ?? {};
  return {
    read: true,
    write: p.push === true || p.maintain === true || p.admin === true,
    admin: p.admin === true,
  };
}

/** A GET with the user's token. */
async function call(url: string, token: string): Promise<Response> {
  try {
    return await fetch(url, {
      headers: { ...API_HEADERS, authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: "follow",
    });
  } catch (error) {
    throw new GitHubUnavailableError(`GitHub could not be reached (${String(error)})`, {
      cause: error,
    });
  }
}

/** A body that is cut off or not JSON (a proxy's error page) is GitHub being unavailable too. */
async function readJson(response: Response, what: string): Promise<unknown> {
  try {
    return await response.json();
  } catch (error) {
    const message = `GitHub's answer to ${what} could not be read (${String(error)})`;
    throw new GitHubUnavailableError(message, { cause: error });
  }
}
