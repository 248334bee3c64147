import { parseInputs } from "../core/manual-inputs.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { branchOf, combinedState } from "./describe-status.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { HttpError, readForm, redirect, reply, sendHtml } from "./http-replies.js";
import { renderBadge } from "./render-badge.js";
import { renderBuildPage, renderRepositoryPage, renderRerunWaitPage } from "./render-pages.js";
import {
  accessOf,
  findReadableBuild,
  intParam,
  NotFound,
  pageContext,
  requireWriter,
  type Page,
  type WebRequest,
  type WebServices,
} from "./web-request.js";
import type { RepositoryRef } from "./web-deps.js";

const BUILDS_PER_PAGE = 30;
/** How far back a badge looks for a build of its branch and hook. */
const BADGE_SEARCH_BUILDS = 200;

/** GET /builds/<id>: the build's hooks with re-run and cancel for writers. */
export const serveBuildPage: Page<[buildId: string]> = async (web, r, buildId) => {
  const { build, access } = await findReadableBuild(web, r, buildId);
  const jobs = await web.deps.store.listJobs(build.id);
  return sendHtml(200, renderBuildPage(pageContext(web, r), build, jobs, access.write));
};

/** POST /builds/<id>/rerun (form: csrf, optional hook). */
export const serveRerun: Page<[buildId: string]> = async (web, r, buildId) => {
  const { build, access } = await findReadableBuild(web, r, buildId);
  const form = await readForm(r.c);
  const viewer = requireWriter(web, r, form, access);
  const hook = form.get("hook") || undefined;
  if (hook !== undefined) {
    const jobs = await web.deps.store.listJobs(build.id);
    if (!jobs.some((job) => job.hook === hook)) {
      throw new HttpError(400, `This build has no hook named "${hook.slice(0, 100)}".`);
    }
  }
  const next = await web.deps.actions.rerun(build, hook, viewer.login);
  const query = hook !== undefined ? `?hook=${encodeURIComponent(hook)}` : "";
  return redirect(
    303,
    `/builds/${encodeURIComponent(build.id)}/reruns/${encodeURIComponent(next.buildId)}${query}`,
  );
};

/**
 * GET /builds/<id>/reruns/<new id>[?hook=]: where Re-run leads. Once the planner has made
 * the new build: on to its job of `hook` (its live page), or to the build; until then a page
 * that says so and reloads itself. Readable as the build it re-runs is; a new build of
 * another repository is not found.
 */
export const serveRerunProgress: Page<[fromBuildId: string, buildId: string]> = async (
  web,
  r,
  fromBuildId,
  buildId,
) => {
  const { build: from } = await findReadableBuild(web, r, fromBuildId);
  const hook = r.url.searchParams.get("hook") || undefined;
  const made = await web.deps.store.getBuild(buildId);
  if (made && made.repoId !== from.repoId) throw new NotFound();
  if (made) {
    const job = (await web.deps.store.listJobs(made.id)).find((j) => j.hook === hook);
    return redirect(
      303,
      job ? `/jobs/${encodeURIComponent(job.id)}` : `/builds/${encodeURIComponent(made.id)}`,
    );
  }
  return sendHtml(200, renderRerunWaitPage(pageContext(web, r), from, hook));
};

/**
 * The repository called `fullName` if the viewer may read it; NotFound otherwise, and also
 * when GitHub cannot say whether it exists: a lookup fails further for an installed repository
 * than for an unknown one, so any other answer would tell a visitor which names exist.
 */
async function findReadableRepository(
  web: WebServices,
  r: WebRequest,
  fullName: string,
): Promise<RepositoryRef> {
  const repo = await web.deps.findRepository(fullName).catch((error: unknown) => {
    if (!(error instanceof GitHubUnavailableError)) throw error;
    console.warn(`kozmic web: repository ${fullName} unknown: ${error.message}`);
    return undefined;
  });
  if (!repo) throw new NotFound();
  const access = await web.checkAccess(repo, r.viewer);
  if (!access.read) throw new NotFound();
  return repo;
}

/**
 * POST /repos/<owner>/<repo>/run (form: csrf, branch, inputs as `NAME=value` lines): runs the
 * branch's head by hand, for writers. Back to the repository page, which lists the new build
 * once the planner made it.
 */
export const serveManualRun: Page<[fullName: string]> = async (web, r, fullName) => {
  const repo = await findReadableRepository(web, r, fullName);
  const form = await readForm(r.c);
  const viewer = requireWriter(web, r, form, await accessOf(web, r, repo));
  const branch = (form.get("branch") ?? "").trim();
  if (!/^[^\s~^:?*[\\]{1,255}$/.test(branch) || branch.startsWith("-")) {
    throw new HttpError(400, "Name the branch to run, e.g. main.");
  }
  const inputs = parseInputs(form.get("inputs") ?? "");
  if (typeof inputs === "string") throw new HttpError(400, inputs);
  if (!web.deps.actions.dispatch || repo.installationId === undefined) {
    throw new HttpError(503, "Kozmic cannot tell which installation this repository is in.");
  }
  const { buildId } = await web.deps.actions.dispatch(repo, branch, inputs, viewer.login);
  return redirect(303, `/repos/${repo.fullName}?run=${encodeURIComponent(buildId)}`);
};

/** GET /repos/<owner>/<repo>[?before=ms]: builds newest first, grouped by branch. */
export const serveRepositoryPage: Page<[fullName: string]> = async (web, r, fullName) => {
  const before = intParam(r.url, "before", Number.MAX_SAFE_INTEGER, undefined);
  const repo = await findReadableRepository(web, r, fullName);
  const builds = await web.deps.store.listBuilds(repo.id, { limit: BUILDS_PER_PAGE, before });
  const withJobs = await Promise.all(
    builds.map(async (build) => ({ build, jobs: await web.deps.store.listJobs(build.id) })),
  );
  const last = builds[builds.length - 1];
  const olderHref =
    builds.length === BUILDS_PER_PAGE && last
      ? `${r.url.pathname}?before=${last.createdAt}`
      : undefined;
  // Admins find their repository's secrets from here, writers the Run form (the answer on
  // access is cached).
  const access = r.viewer ? await web.checkAccess(repo, r.viewer) : undefined;
  const asked = r.url.searchParams.get("run") !== null;
  return sendHtml(
    200,
    renderRepositoryPage(pageContext(web, r), repo.fullName, withJobs, olderHref, {
      admin: access?.admin ?? false,
      write:
        (access?.write ?? false) &&
        web.deps.settings.oauth.enabled &&
        web.deps.actions.dispatch !== undefined,
      asked,
    }),
  );
};

/**
 * GET /badges/<owner>/<repo>.svg[?branch=&hook=]: the newest push build's status (of the
 * branch and the hook when given). Builds of pull requests are left out.
 */
export const serveBadge: Page<[fullName: string]> = async (web, r, fullName) => {
  const branch = r.url.searchParams.get("branch") || undefined;
  const hook = r.url.searchParams.get("hook") || undefined;
  if ((branch?.length ?? 0) > 255 || (hook?.length ?? 0) > 255) {
    throw new HttpError(400, "branch and hook must be at most 255 characters.");
  }
  const repo = await findReadableRepository(web, r, fullName);
  const jobs = await findBadgeJobs(web, repo.id, branch, hook);
  const svg = renderBadge(hook ?? "kozmic", jobs ? combinedState(jobs) : "unknown");
  return reply(200, "image/svg+xml; charset=utf-8", svg, {
    "cache-control": repo.private ? "private, no-store" : "no-cache",
  });
};

async function findBadgeJobs(
  web: WebServices,
  repoId: number,
  branch: string | undefined,
  hook: string | undefined,
): Promise<JobRecord[] | undefined> {
  let before: number | undefined;
  for (let seen = 0; seen < BADGE_SEARCH_BUILDS;) {
    const builds: BuildRecord[] = await web.deps.store.listBuilds(repoId, { limit: 50, before });
    for (const build of builds) {
      if (build.pullRequest !== undefined) continue;
      if (branch !== undefined && branchOf(build.ref) !== branch) continue;
      const jobs = (await web.deps.store.listJobs(build.id)).filter(
        (job) => hook === undefined || job.hook === hook,
      );
      if (jobs.length > 0) return jobs;
    }
    if (builds.length < 50) return undefined;
    seen += builds.length;
    before = builds[builds.length - 1]!.createdAt;
  }
  return undefined;
}
