import { randomBytes } from "node:crypto";
import {
  authorizeUrl,
  exchangeCode,
  getUserLogin,
  GitHubUnavailableError,
} from "./github-user-api.js";
import { HttpError, readForm, redirect, sendHtml } from "./http-replies.js";
import { renderMessagePage } from "./render-pages.js";
import { getCookie } from "hono/cookie";
import { openCookie, sealCookie, serializeCookie } from "./seal-cookie.js";
import {
  checkCsrf,
  pageContext,
  type Page,
  type WebRequest,
  type WebServices,
} from "./web-request.js";

export const SESSION_COOKIE = "kozmic_session";
const STATE_COOKIE = "kozmic_oauth";
/** GitHub App user tokens expire after 8 hours; the session ends with its token. */
export const SESSION_MS = 8 * 3600_000;
const STATE_MS = 10 * 60_000;

/** A path on this site to return to; anything else (other hosts, `//x`, `/\x`) means `/`. */
export function safeReturnPath(value: string | null | undefined): string {
  if (!value || value.length > 1024 || !value.startsWith("/") || /^\/[/\\]/.test(value)) return "/";
  // Only visible ASCII can go back in a Location header: a control character, a space or
  // U+3000 made the callback answer 500 after a successful sign-in.
  if (/[^\x21-\x7e]|\\/.test(value)) return "/";
  return value;
}

/** Sign-in's settings, or the page that explains how to configure it. */
function oauthOrExplain(web: WebServices, r: WebRequest) {
  const { oauth } = web.deps.settings;
  if (oauth.enabled) return oauth;
  return sendHtml(
    503,
    renderMessagePage(
      pageContext(web, r),
      "Sign-in is not configured",
      `This Kozmic cannot sign you in with GitHub, so logs of private repositories cannot be viewed here; logs of public repositories need no sign-in. To enable it, set ${oauth.missing.join(", ")} (the GitHub App's client id and secret, and a random secret of 32 or more characters for the session cookie).`,
    ),
  );
}

/** GET /login?return_to=/path: starts GitHub's OAuth web flow with a fresh state. */
export const serveLogin: Page = async (web, r) => {
  const oauth = oauthOrExplain(web, r);
  if (oauth instanceof Response) return oauth;
  const state = randomBytes(24).toString("base64url");
  const returnTo = safeReturnPath(r.url.searchParams.get("return_to"));
  const cookie = sealCookie(
    oauth.sessionSecret,
    STATE_COOKIE,
    { state, returnTo },
    Date.now() + STATE_MS,
  );
  const { settings } = web.deps;
  return redirect(
    302,
    authorizeUrl(
      settings.githubWebUrl,
      oauth.clientId,
      `${settings.publicUrl}/login/callback`,
      state,
    ),
    [serializeCookie(STATE_COOKIE, cookie, { maxAgeSeconds: STATE_MS / 1000, secure: web.secure })],
  );
};

/** GET /login/callback?code=&state=: checks the state, trades the code, starts the session. */
export const serveLoginCallback: Page = async (web, r) => {
  const oauth = oauthOrExplain(web, r);
  if (oauth instanceof Response) return oauth;
  const started = openCookie(
    oauth.sessionSecret,
    STATE_COOKIE,
    getCookie(r.c, STATE_COOKIE) ?? "",
  ) as { state: string; returnTo: string } | undefined;
  const state = r.url.searchParams.get("state");
  if (!started || !state || state !== started.state) {
    throw new HttpError(
      400,
      "This sign-in was not started here or has expired (after 10 minutes). Sign in again.",
    );
  }
  if (r.url.searchParams.get("error")) {
    throw new HttpError(
      400,
      "GitHub did not sign you in (the request was declined). Sign in again to retry.",
    );
  }
  const code = r.url.searchParams.get("code");
  if (!code || code.length > 512)
    throw new HttpError(400, "GitHub's answer has no sign-in code. Sign in again.");
  const { login, token } = await signInWithCode(web, oauth, code).catch((error: unknown) => {
    if (!(error instanceof GitHubUnavailableError)) throw error;
    throw new HttpError(503, "GitHub could not be reached to sign you in; try again in a minute.");
  });
  const session = sealCookie(
    oauth.sessionSecret,
    SESSION_COOKIE,
    { login, token, sessionId: randomBytes(18).toString("base64url") },
    Date.now() + SESSION_MS,
  );
  // Checked again: a sign-in started before an upgrade may carry a path an older check let by.
  return redirect(303, safeReturnPath(started.returnTo), [
    serializeCookie(SESSION_COOKIE, session, {
      maxAgeSeconds: SESSION_MS / 1000,
      secure: web.secure,
    }),
    serializeCookie(STATE_COOKIE, "", { maxAgeSeconds: 0, secure: web.secure }),
  ]);
};

/** POST /logout (form with the CSRF token, optional return_to). */
export const serveLogout: Page = async (web, r) => {
  const form = await readForm(r.c);
  const { oauth } = web.deps.settings;
  if (r.viewer && oauth.enabled) checkCsrf(web, r.viewer, form);
  // Clearing the cookie is not enough: a copy taken before (another browser, a proxy's log)
  // would stay good for the rest of its 8 hours.
  if (r.viewer) await web.deps.store.revokeSession(r.viewer.sessionId, Date.now() + SESSION_MS);
  return redirect(303, safeReturnPath(form.get("return_to")), [
    serializeCookie(SESSION_COOKIE, "", { maxAgeSeconds: 0, secure: web.secure }),
  ]);
};

/** An OAuth code traded for a token, and the login that token belongs to. */
async function signInWithCode(
  web: WebServices,
  oauth: { clientId: string; clientSecret: string },
  code: string,
): Promise<{ login: string; token: string }> {
  const { settings } = web.deps;
  const token = await exchangeCode({
    githubWebUrl: settings.githubWebUrl,
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    code,
    redirectUri: `${settings.publicUrl}/login/callback`,
  });
  if (!token)
    throw new HttpError(
      400,
      "GitHub refused the sign-in code (it may have been used already). Sign in again.",
    );
  const login = await getUserLogin(settings.githubApiUrl, token);
  if (!login)
    throw new HttpError(400, "GitHub did not accept the new sign-in token. Sign in again.");
  return { login, token };
}
