import { Hono, type Context } from "hono";
import { getCookie } from "hono/cookie";
import { MAX_SECRET_BYTES, SECRET_NAME } from "../core/secret-rules.js";
import { createAccessChecker, type Viewer } from "./check-access.js";
import { formLimit, HttpError, pageHeaders, reply, sendHtml } from "./http-replies.js";
import { notFound } from "../http/not-found.js";
import { LogReader } from "./log-reader.js";
import { renderMessagePage, renderNotFoundPage } from "./render-pages.js";
import { openCookie } from "./seal-cookie.js";
import { findAsset } from "./serve-assets.js";
import { serveHome } from "./serve-home.js";
import {
  serveArtifact,
  serveCancel,
  serveJobPage,
  serveLiveLog,
  serveLogLines,
  serveLogSearch,
  serveRawLog,
} from "./serve-job.js";
import { SESSION_COOKIE, serveLogin, serveLoginCallback, serveLogout } from "./serve-login.js";
import {
  serveBadge,
  serveBuildPage,
  serveManualRun,
  serveRepositoryPage,
  serveRerun,
  serveRerunProgress,
} from "./serve-repository.js";
import { serveDeleteSecret, serveSecretsPage, serveSetSecret } from "./serve-secrets.js";
import type { WebDeps } from "./web-deps.js";
import { NotFound, pageContext, type WebRequest, type WebServices } from "./web-request.js";

const MAX_URL_LENGTH = 2048;
/** The first path segments the pages answer; "" is the home page (/). */
const ROOTS = new Set(["", "jobs", "builds", "repos", "badges", "login", "logout", "assets"]);
const ID = "{[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}}";
const NAME = "{[A-Za-z0-9_.-]{1,100}}";
const FORM_BYTES = 8192;
// Room for the largest value URL-encoded (3 bytes a byte at worst) and the other fields.
const SECRET_FORM_BYTES = MAX_SECRET_BYTES * 3 + 4096;

export type WebEnv = { Variables: { r: WebRequest; html: boolean } };

type Run = (web: WebServices, r: WebRequest, c: Context<WebEnv>) => Response | Promise<Response>;

/**
 * The log pages as one Hono app: /, /jobs, /builds, /repos, /badges, /login, /logout and
 * /assets. A wrong method is answered 405 with Allow, an address over 2048 characters 414,
 * anything unknown or not readable by the viewer 404; a path under none of those the fixed
 * 404 of every server. Mounted in the app's one HTTP app (github/kozmic-app.ts).
 */
export function createWebApp(deps: WebDeps): { app: Hono<WebEnv>; close(): void } {
  const stopping = new AbortController();
  const web: WebServices = {
    stopping: stopping.signal,
    deps,
    reader: new LogReader(deps.store),
    checkAccess: createAccessChecker(deps.settings.githubApiUrl, deps.accessTtlMs),
    secure: deps.settings.publicUrl.startsWith("https:"),
  };
  const app = new Hono<WebEnv>();
  app.use(async (c, next) => {
    if (!ROOTS.has(/^\/([^/?#]*)/.exec(sentTarget(c))?.[1] ?? "")) return notFound();
    await next();
  });
  app.use(...pageHeaders(["'self'", deps.settings.githubWebUrl]));
  app.use(async (c, next) => {
    const target = sentTarget(c);
    const r: WebRequest = { c, url: new URL(c.req.url) };
    c.set("r", r);
    c.set("html", !/\.(svg|txt)(\?|$)|\/(live|lines|search)(\?|$)/.test(target));
    if (target.length > MAX_URL_LENGTH) {
      throw new HttpError(414, `The address is longer than ${MAX_URL_LENGTH} characters.`);
    }
    const segments = decodeSegments(r.url.pathname);
    // A dot segment resolved by the URL parser (/jobs/%2e%2e is /) leads nowhere.
    if (segments[0] !== /^\/([^/?#]*)/.exec(target)?.[1]) throw new NotFound();
    r.viewer = await readViewer(deps, getCookie(c, SESSION_COOKIE));
    await next();
  });

  const allowed = new Map<string, string[]>();
  const route = (method: "GET" | "POST", path: string, run: Run, formBytes = FORM_BYTES) => {
    const answer = (c: Context<WebEnv>) => run(web, c.get("r"), c);
    if (method === "GET") app.get(path, answer);
    else app.post(path, formLimit(formBytes), answer);
    const methods = method === "GET" ? ["GET", "HEAD"] : ["POST"];
    allowed.set(path, [...(allowed.get(path) ?? []), ...methods]);
  };
  route("GET", "/", serveHome);
  route("GET", "/assets/:file", (_web, _r, c) => {
    const asset = findAsset(`/assets/${param(c, "file")}`);
    if (!asset) throw new NotFound();
    return reply(200, asset.type, asset.body, { "cache-control": "public, max-age=3600" });
  });
  route("GET", "/login", serveLogin);
  route("GET", "/login/callback", serveLoginCallback);
  route("POST", "/logout", serveLogout);
  route("GET", `/jobs/:id${ID}`, (w, r, c) => serveJobPage(w, r, param(c, "id")));
  route("GET", `/jobs/:id${ID}/log.txt`, (w, r, c) => serveRawLog(w, r, param(c, "id")));
  route("GET", `/jobs/:id${ID}/live`, (w, r, c) => serveLiveLog(w, r, param(c, "id")));
  route("GET", `/jobs/:id${ID}/lines`, (w, r, c) => serveLogLines(w, r, param(c, "id")));
  route("GET", `/jobs/:id${ID}/search`, (w, r, c) => serveLogSearch(w, r, param(c, "id")));
  route("GET", `/jobs/:id${ID}/artifacts/*`, (w, r, c) => serveArtifact(w, r, param(c, "id")));
  route("POST", `/jobs/:id${ID}/cancel`, (w, r, c) => serveCancel(w, r, param(c, "id")));
  route("GET", `/builds/:id${ID}`, (w, r, c) => serveBuildPage(w, r, param(c, "id")));
  route("POST", `/builds/:id${ID}/rerun`, (w, r, c) => serveRerun(w, r, param(c, "id")));
  route("GET", `/builds/:id${ID}/reruns/:new${ID}`, (w, r, c) =>
    serveRerunProgress(w, r, param(c, "id"), param(c, "new")),
  );
  const repo = `/repos/:owner${NAME}/:repo${NAME}`;
  const fullName = (c: Context<WebEnv>) => `${param(c, "owner")}/${param(c, "repo")}`;
  route("GET", repo, (w, r, c) => serveRepositoryPage(w, r, fullName(c)));
  route("POST", `${repo}/run`, (w, r, c) => serveManualRun(w, r, fullName(c)));
  route("GET", `${repo}/secrets`, (w, r, c) => serveSecretsPage(w, r, fullName(c)));
  route(
    "POST",
    `${repo}/secrets`,
    (w, r, c) => serveSetSecret(w, r, fullName(c)),
    SECRET_FORM_BYTES,
  );
  route("POST", `${repo}/secrets/:name/delete`, (w, r, c) => {
    const name = param(c, "name");
    if (!SECRET_NAME.test(name)) throw new NotFound();
    return serveDeleteSecret(w, r, fullName(c), name);
  });
  route("GET", `/badges/:owner${NAME}/:file{[A-Za-z0-9_.-]{1,100}\\.svg}`, (w, r, c) => {
    return serveBadge(w, r, `${param(c, "owner")}/${param(c, "file").slice(0, -".svg".length)}`);
  });
  // Registered after every route: a path that exists, asked with another method.
  for (const [path, methods] of allowed) {
    app.all(path, () =>
      reply(405, "text/plain; charset=utf-8", `Use ${methods.join(" or ")}.\n`, {
        allow: methods.join(", "),
      }),
    );
  }

  app.notFound((c) => sendError(web, c.get("r"), new NotFound(), c.get("html")));
  app.onError((error, c) => {
    const r = c.get("r") ?? { c, url: new URL(c.req.url) };
    if (error instanceof HttpError) return sendError(web, r, error, c.get("html") ?? true);
    console.error("kozmic web: request failed", error);
    return sendText(500, "Something went wrong on the Kozmic server.");
  });
  /** Ends the open live tails (call on shutdown, before waiting for requests to finish). */
  const close = () => stopping.abort();
  return { app, close };
}

function sendText(status: number, text: string): Response {
  return reply(status, "text/plain; charset=utf-8", `${text}\n`);
}

/** Unknown and forbidden look the same (the one not-found page), so nothing tells a stranger what exists. */
function sendError(web: WebServices, r: WebRequest, error: HttpError, html: boolean): Response {
  if (!html) return sendText(error.status, error.message);
  const ctx = pageContext(web, r);
  if (error instanceof NotFound) return sendHtml(404, renderNotFoundPage(ctx));
  const title =
    error.status === 403
      ? "Not allowed"
      : error.status === 404
        ? "Not found"
        : error.status >= 500
          ? "Unavailable"
          : "Bad request";
  return sendHtml(error.status, renderMessagePage(ctx, title, error.message));
}

/**
 * The request target as the client sent it, before URL parsing resolved its dot segments:
 * Node's request line, or the Lambda event's raw path and query.
 */
function sentTarget(c: Context): string {
  const env = c.env as
    | { incoming?: { url?: string }; event?: { rawPath?: string; rawQueryString?: string } }
    | undefined;
  if (env?.incoming?.url !== undefined) return env.incoming.url;
  if (env?.event?.rawPath !== undefined) {
    const query = env.event.rawQueryString;
    return query ? `${env.event.rawPath}?${query}` : env.event.rawPath;
  }
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/** A path parameter; every route's pattern has the ones its handler asks for. */
function param(c: Context, name: string): string {
  const value = c.req.param(name);
  if (value === undefined) throw new NotFound();
  return value;
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
