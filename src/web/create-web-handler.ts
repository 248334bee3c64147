import type { IncomingMessage, ServerResponse } from "node:http";
import { createAccessChecker, type Viewer } from "./check-access.js";
import { HttpError, sendBody } from "./http-replies.js";
import { LogReader } from "./log-reader.js";
import { openCookie, parseCookies } from "./seal-cookie.js";
import { serveHome } from "./serve-home.js";
import { findAsset } from "./serve-assets.js";
import { serveCancel, serveJobPage, serveLiveLog, serveRawLog } from "./serve-job.js";
import { SESSION_COOKIE, serveLogin, serveLoginCallback, serveLogout } from "./serve-login.js";
import { serveBadge, serveBuildPage, serveRepositoryPage, serveRerun } from "./serve-repository.js";
import { serveDeleteSecret, serveSecretsPage, serveSetSecret } from "./serve-secrets.js";
import { SECRET_NAME } from "../core/secret-rules.js";
import type { Handler, WebDeps } from "./web-deps.js";
import {
  NotFound,
  sendError,
  sendNotFound,
  sendText,
  type WebRequest,
  type WebServices,
} from "./web-request.js";

export type { Handler, WebDeps, WebActions, RepositoryRef } from "./web-deps.js";

const MAX_URL_LENGTH = 2048;
// "" is the home page (/).
const ROOTS = new Set(["", "jobs", "builds", "repos", "badges", "login", "logout", "assets"]);
const ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

type Route = { method: "GET" | "POST"; html: boolean; run: (r: WebRequest) => Promise<void> };

/**
 * The log pages as a Probot server handler: /jobs, /builds, /repos, /badges, /login,
 * /logout and /assets; every other path is left to the next handler (returns false).
 */
export function createWebHandler(deps: WebDeps): Handler & { close(): void } {
  const stopping = new AbortController();
  const web: WebServices = {
    stopping: stopping.signal,
    deps,
    reader: new LogReader(deps.store),
    checkAccess: createAccessChecker(deps.settings.githubApiUrl, deps.accessTtlMs),
    secure: deps.settings.publicUrl.startsWith("https:"),
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const rawUrl = req.url ?? "/";
    const root = /^\/([^/?#]*)/.exec(rawUrl)?.[1] ?? "";
    if (!ROOTS.has(root)) return false;
    const r: WebRequest = { req, res, url: new URL("http://kozmic.invalid/"), segments: [] };
    const wantsHtml = !/\.(svg|txt)(\?|$)|\/live(\?|$)/.test(rawUrl);
    try {
      if (rawUrl.length > MAX_URL_LENGTH) {
        throw new HttpError(414, `The address is longer than ${MAX_URL_LENGTH} characters.`);
      }
      r.url = new URL(rawUrl, "http://kozmic.invalid");
      r.segments = decodeSegments(r.url.pathname);
      // A dot segment resolved by the URL parser (/jobs/%2e%2e is /) leads nowhere.
      if ((r.segments[0] ?? "") !== root) throw new NotFound();
      const cookies = parseCookies(req.headers.cookie);
      r.viewer = await readViewer(deps, cookies.get(SESSION_COOKIE));
      const route = findRoute(web, r, cookies);
      if (!route) throw new NotFound();
      const method = (req.method ?? "GET").toUpperCase();
      const allowed = route.method === "GET" ? ["GET", "HEAD"] : ["POST"];
      if (!allowed.includes(method)) {
        sendBody(
          res,
          405,
          "text/plain; charset=utf-8",
          `Use ${allowed.join(" or ")}.\n`,
          deps.settings.githubWebUrl,
          {
            allow: allowed.join(", "),
          },
        );
        return true;
      }
      await route.run(r);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof NotFound) {
        sendNotFound(web, r, wantsHtml);
      } else if (error instanceof HttpError) {
        sendError(web, r, error.status, error.message, wantsHtml);
      } else {
        console.error("kozmic web: request failed", error);
        sendText(web, r, 500, "Something went wrong on the Kozmic server.");
      }
    }
    return true;
  };
  /** Ends the open live tails (call on shutdown, before waiting for requests to finish). */
  const close = () => stopping.abort();
  return Object.assign(handler, { close });
}

/** Path segments, decoded; an encoded slash or a dot segment is a path trick and finds nothing. */
function decodeSegments(pathname: string): string[] {
  return pathname
    .split("/")
    .slice(1)
    .map((raw) => {
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        throw new HttpError(400, "The address has a malformed percent-encoding.");
      }
      if (segment === "." || segment === ".." || /[/\\]/.test(segment) || segment.includes("\0"))
        throw new NotFound();
      return segment;
    });
}

/** The signed-in viewer: a session cookie that opens, of a session no logout revoked. */
async function readViewer(deps: WebDeps, cookie: string | undefined): Promise<Viewer | undefined> {
  if (!cookie || !deps.settings.oauth.enabled) return undefined;
  const session = openCookie(deps.settings.oauth.sessionSecret, SESSION_COOKIE, cookie) as
    Viewer | undefined;
  const valid =
    session &&
    typeof session.login === "string" &&
    typeof session.token === "string" &&
    typeof session.sessionId === "string";
  if (!valid || (await deps.store.isSessionRevoked(session.sessionId))) return undefined;
  return session;
}

function findRoute(
  web: WebServices,
  r: WebRequest,
  cookies: Map<string, string>,
): Route | undefined {
  const s = r.segments;
  const get = (run: Route["run"], html = true): Route => ({ method: "GET", html, run });
  const post = (run: Route["run"]): Route => ({ method: "POST", html: true, run });
  const [root, a, b] = s;
  if (s.length === 0 || (s.length === 1 && root === "")) return get(() => serveHome(web, r));
  if (root === "assets" && s.length === 2) {
    const asset = findAsset(`/assets/${a}`);
    return asset
      ? get(async () => {
          sendBody(r.res, 200, asset.type, asset.body, web.deps.settings.githubWebUrl, {
            "cache-control": "public, max-age=3600",
          });
        })
      : undefined;
  }
  if (root === "login" && s.length === 1) return get(() => serveLogin(web, r));
  if (root === "login" && a === "callback" && s.length === 2)
    return get(() => serveLoginCallback(web, r, cookies));
  if (root === "logout" && s.length === 1) return post(() => serveLogout(web, r));
  if (root === "jobs" && a !== undefined && ID.test(a)) {
    if (s.length === 2) return get(() => serveJobPage(web, r, a));
    if (s.length === 3 && b === "log.txt") return get(() => serveRawLog(web, r, a), false);
    if (s.length === 3 && b === "live") return get(() => serveLiveLog(web, r, a), false);
    if (s.length === 3 && b === "cancel") return post(() => serveCancel(web, r, a));
  }
  if (root === "builds" && a !== undefined && ID.test(a)) {
    if (s.length === 2) return get(() => serveBuildPage(web, r, a));
    if (s.length === 3 && b === "rerun") return post(() => serveRerun(web, r, a));
  }
  if (root === "repos" && s.length === 3 && a && b && NAME.test(a) && NAME.test(b)) {
    return get(() => serveRepositoryPage(web, r, `${a}/${b}`));
  }
  if (root === "repos" && s[3] === "secrets" && a && b && NAME.test(a) && NAME.test(b)) {
    const repo = `${a}/${b}`;
    if (s.length === 4) {
      return r.req.method === "POST"
        ? post(() => serveSetSecret(web, r, repo))
        : get(() => serveSecretsPage(web, r, repo));
    }
    const name = s[4];
    if (s.length === 6 && name && SECRET_NAME.test(name) && s[5] === "delete") {
      return post(() => serveDeleteSecret(web, r, repo, name));
    }
  }
  if (root === "badges" && s.length === 3 && a && b?.endsWith(".svg")) {
    const repo = b.slice(0, -".svg".length);
    if (NAME.test(a) && NAME.test(repo))
      return get(() => serveBadge(web, r, `${a}/${repo}`), false);
  }
  return undefined;
}
