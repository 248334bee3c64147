import type { Context } from "hono";
import type { BuildRecord, JobRecord } from "../store/port.js";
import type { Access, CheckAccess, Viewer } from "./check-access.js";
import { HttpError, reply } from "./http-replies.js";
import type { LogReader } from "./log-reader.js";
import type { PageContext } from "./render-pages.js";
import { csrfTokenFor, isCsrfTokenValid } from "./seal-cookie.js";
import type { WebDeps } from "./web-deps.js";

/** What every route needs: the dependencies and the services built once per handler. */
export interface WebServices {
  deps: WebDeps;
  reader: LogReader;
  checkAccess: CheckAccess;
  /** Cookies get `Secure` when the public URL is https. */
  secure: boolean;
  /** Aborted when the server shuts down: live tails end, and browsers reconnect elsewhere. */
  stopping: AbortSignal;
}

/** One request: Hono's context, its URL and who is asking. */
export interface WebRequest {
  c: Context;
  url: URL;
  viewer?: Viewer;
}

/** A route's answer, from the services, the request and the path's parameters. */
export type Page<Params extends unknown[] = []> = (
  web: WebServices,
  r: WebRequest,
  ...params: Params
) => Promise<Response>;

export function pageContext(web: WebServices, r: WebRequest): PageContext {
  const { settings } = web.deps;
  const sessionSecret = settings.oauth.enabled ? settings.oauth.sessionSecret : "";
  return {
    viewer: r.viewer && {
      login: r.viewer.login,
      csrf: csrfTokenFor(sessionSecret, r.viewer.sessionId),
    },
    githubWebUrl: settings.githubWebUrl,
    path: r.url.pathname + r.url.search,
    loginEnabled: settings.oauth.enabled,
  };
}

export function sendJson(value: unknown): Response {
  return reply(200, "application/json; charset=utf-8", JSON.stringify(value));
}

export class NotFound extends HttpError {
  constructor() {
    super(404, "Not found.");
  }
}

/** A job with its build, if the viewer may read its repository; NotFound otherwise. */
export async function findReadableJob(
  web: WebServices,
  r: WebRequest,
  jobId: string,
): Promise<{ job: JobRecord; build: BuildRecord; access: Access }> {
  const job = await web.deps.store.getJob(jobId);
  if (!job) throw new NotFound();
  return { job, ...(await findReadableBuild(web, r, job.buildId)) };
}

export async function findReadableBuild(
  web: WebServices,
  r: WebRequest,
  buildId: string,
): Promise<{ build: BuildRecord; access: Access }> {
  const build = await web.deps.store.getBuild(buildId);
  if (!build) throw new NotFound();
  const access = await accessOf(web, r, {
    fullName: build.repoFullName,
    private: await isPrivateNow(web, build),
  });
  if (!access.read) throw new NotFound();
  return { build, access };
}

/** What the viewer may do with `repo`; GitHub is asked afresh for a POST, which acts. */
export function accessOf(
  web: WebServices,
  r: WebRequest,
  repo: { fullName: string; private: boolean },
): Promise<Access> {
  return web.checkAccess(repo, r.viewer, { fresh: r.c.req.method === "POST" });
}

/**
 * A build records whether its repository was private then; one made private since must not
 * keep its old logs public, so GitHub's current answer (cached by the finder) counts too.
 * When GitHub cannot be asked, the recorded flag decides.
 */
async function isPrivateNow(web: WebServices, build: BuildRecord): Promise<boolean> {
  if (build.repoPrivate) return true;
  try {
    const current = await web.deps.findRepository(build.repoFullName);
    return current?.id === build.repoId && current.private;
  } catch {
    return false;
  }
}

/** For POSTs: a signed-in viewer with a valid CSRF token and push access. */
export function requireWriter(
  web: WebServices,
  r: WebRequest,
  form: URLSearchParams,
  access: Access,
): Viewer {
  if (!r.viewer || !web.deps.settings.oauth.enabled) {
    throw new HttpError(403, "Sign in with GitHub to re-run or cancel builds.");
  }
  checkCsrf(web, r.viewer, form);
  if (!access.write) {
    throw new HttpError(
      403,
      `Your GitHub account ${r.viewer.login} cannot push to this repository, so it cannot re-run or cancel its builds.`,
    );
  }
  return r.viewer;
}

/** A state-changing form carries the CSRF token of the viewer's session. */
export function checkCsrf(web: WebServices, viewer: Viewer, form: URLSearchParams): void {
  const { oauth } = web.deps.settings;
  const secret = oauth.enabled ? oauth.sessionSecret : "";
  if (!isCsrfTokenValid(secret, viewer.sessionId, form.get("csrf"))) {
    throw new HttpError(
      403,
      "The form's CSRF token is missing or belongs to another session; reload the page and try again.",
    );
  }
}

/** A whole number query parameter within [0, max], or `fallback` when absent. */
export function intParam<T>(url: URL, name: string, max: number, fallback: T): number | T {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, `Query parameter ${name} must be a whole number from 0 to ${max}.`);
  }
  return Number(raw);
}
