import { isFinal } from "../core/job-state.js";
import { describeTestCounts } from "../core/test-reports/describe-test-counts.js";
import type { BuildRecord, JobRecord, LogSectionRecord } from "../store/port.js";
import { encodePath, markup, join, type Html } from "./html.js";
import type { ArtifactEntry } from "../store/artifact-port.js";
import { renderLogRanges, type RangeView } from "./render-log.js";
import {
  branchOf,
  combinedState,
  describeTrigger,
  describeJobStatus,
  formatSeconds,
  jobState,
} from "./describe-status.js";

/** Who is looking, as the pages need it: login and the CSRF token of their session. */
export interface PageViewer {
  login: string;
  csrf: string;
}

export interface PageContext {
  viewer?: PageViewer;
  githubWebUrl: string;
  /** The path of this page, where login returns to. */
  path: string;
  loginEnabled: boolean;
}

export function renderLayout(
  ctx: PageContext,
  title: string,
  main: Html,
  scripts: string[] = [],
): Html {
  const account = ctx.viewer
    ? markup`<span>Signed in as <strong>${ctx.viewer.login}</strong></span>
       <form method="post" action="/logout" class="inline">${csrfField(ctx.viewer)}<input type="hidden" name="return_to" value="${ctx.path}"><button type="submit">Sign out</button></form>`
    : ctx.loginEnabled
      ? markup`<a href="/login?return_to=${encodeURIComponent(ctx.path)}">Sign in with GitHub</a>`
      : "";
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Kozmic</title>
<link rel="stylesheet" href="/assets/kozmic.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${join(
  scripts.map((s) => markup`<script src="${s}" defer></script>`),
  "\n",
)}
</head>
<body>
<header class="top"><a class="brand" href="/">Kozmic</a><nav aria-label="Account">${account}</nav></header>
<main id="main">
${main}
</main>
</body>
</html>
`;
}

function csrfField(viewer: PageViewer): Html {
  return markup`<input type="hidden" name="csrf" value="${viewer.csrf}">`;
}

function gh(ctx: PageContext, path: string): string {
  return `${ctx.githubWebUrl}/${path}`;
}

function refLabel(build: BuildRecord, ctx: PageContext): Html {
  if (build.pullRequest !== undefined) {
    return markup`<a href="${gh(ctx, `${encodePath(build.repoFullName)}/pull/${build.pullRequest}`)}">pull request #${build.pullRequest}</a>`;
  }
  return markup`<code>${branchOf(build.ref)}</code>`;
}

/** Phase durations as shown on a job page; the live tail replaces them when the job ends. */
export function renderDurations(job: JobRecord): string {
  const d = job.durations ?? {};
  const install = job.cacheHit ? "skipped (cache hit)" : formatSeconds(d.install);
  return `pull ${formatSeconds(d.pull)}, install ${install}, build ${formatSeconds(d.build)}, total ${formatSeconds(d.total)}`;
}

/**
 * A hook's sections on the build page: preparing, install with the cache's outcome, build,
 * each with its time so far, from the job's record (no log is read).
 */
export function renderSectionSummary(job: JobRecord): Html | string {
  if (job.status === "queued" || job.status === "waiting") return "–";
  const d = job.durations ?? {};
  const short = job.cacheKey ? markup` <code>${job.cacheKey.slice(0, 12)}</code>` : "";
  const install =
    job.cacheHit === true
      ? markup`install skipped: cache hit${short}`
      : job.cacheHit === false
        ? markup`install ${formatSeconds(d.install)}: cache miss${short}${job.cacheMissReasons?.length ? ` (${job.cacheMissReasons.join("; ")})` : ""}`
        : job.cacheKey === undefined && isFinal(job.status) && d.install === undefined
          ? "no install"
          : `install ${formatSeconds(d.install)}`;
  return join(
    [`preparing ${formatSeconds(d.pull)}`, install, `build ${formatSeconds(d.build)}`],
    " · ",
  );
}

/**
 * The status as shown on a job page; the live tail replaces it as it changes. The message
 * shows once the job has ended: until then a cancel's reason ("Cancelled by alice.") would
 * contradict the status.
 */
export function renderJobStatus(job: JobRecord): Html {
  return markup`${badge(job)}${job.message && isFinal(job.status) ? markup` <span class="message">${job.message}</span>` : ""}`;
}

/**
 * What a writer can do with the job in its state: Cancel while it runs or waits (not once
 * a cancel was asked for), Re-run once it ended. Rendered from the same record as its
 * status, by the page and by each live `state` event; also in the build page's rows, where
 * the buttons name their hook (`named`) and Cancel is a plain form (only the job page's
 * script sends a `cancel` form itself).
 */
export function renderJobActions(
  ctx: PageContext,
  build: BuildRecord,
  job: JobRecord,
  canWrite: boolean,
  named = false,
): Html | string {
  if (!canWrite || !ctx.viewer) return "";
  const hook = named ? ` ${job.hook}` : "";
  if (!isFinal(job.status)) {
    if (job.cancelRequested) return "";
    return markup`<form method="post" action="/jobs/${encodeURIComponent(job.id)}/cancel" class="inline${named ? "" : " cancel"}">${csrfField(ctx.viewer)}<button type="submit">Cancel${hook}</button></form>`;
  }
  return markup`<form method="post" action="/builds/${encodeURIComponent(build.id)}/rerun" class="inline">${csrfField(ctx.viewer)}<input type="hidden" name="hook" value="${job.hook}"><button type="submit">Re-run${hook}</button></form>`;
}

/** Where a page sits: repository › build › job, each a link (the last one the page itself). */
function renderBreadcrumbs(build: BuildRecord, job?: JobRecord): Html {
  const crumbs = [
    markup`<li><a href="/repos/${encodePath(build.repoFullName)}">${build.repoFullName}</a></li>`,
    markup`<li><a href="/builds/${encodeURIComponent(build.id)}"${job ? "" : markup` aria-current="page"`}>build <code>${build.sha.slice(0, 7)}</code></a></li>`,
    job
      ? markup`<li><a href="/jobs/${encodeURIComponent(job.id)}" aria-current="page">${job.hook}</a></li>`
      : "",
  ];
  return markup`<nav aria-label="Breadcrumbs" class="breadcrumbs"><ol>${join(crumbs, "")}</ol></nav>`;
}

/** How long a running job has run, ticking on the page (the script counts from data-started). */
function renderElapsed(job: JobRecord, now: number): Html | string {
  if (isFinal(job.status) || job.startedAt === undefined) return "";
  const seconds = Math.max(0, now - job.startedAt) / 1000;
  return markup`<span id="running-for"> · running for <span id="elapsed" data-started="${job.startedAt}" data-now="${now}">${formatSeconds(seconds)}</span></span>`;
}

function badge(job: JobRecord): Html {
  return markup`<span class="state state-${jobState(job).replace(" ", "-")}">${describeJobStatus(job)}</span>`;
}

function commitLink(ctx: PageContext, build: { repoFullName: string; sha: string }): Html {
  return markup`<a href="${gh(ctx, `${encodePath(build.repoFullName)}/commit/${build.sha}`)}"><code>${build.sha.slice(0, 7)}</code></a>`;
}

function time(ms: number | undefined): Html | string {
  if (ms === undefined) return "–";
  const iso = new Date(ms).toISOString();
  return markup`<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time>`;
}

/** A file's size as the list shows it: bytes, KB, MB or GB (powers of 1024). */
function describeSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const unit = bytes < 1024 ** 2 ? 1 : bytes < 1024 ** 3 ? 2 : 3;
  return `${(bytes / 1024 ** unit).toFixed(1)} ${["KB", "MB", "GB"][unit - 1]}`;
}

/** The job page's list of kept files, each a download link with its size; nothing for none. */
function renderArtifacts(jobId: string, artifacts: readonly ArtifactEntry[]): Html | "" {
  if (artifacts.length === 0) return "";
  const items = artifacts.map(
    (a) =>
      markup`<li><a href="/jobs/${encodeURIComponent(jobId)}/artifacts/${encodePath(a.name)}" download>${a.name}</a> <span class="size">${describeSize(a.size)}</span></li>`,
  );
  return markup`<section aria-labelledby="artifacts-title">
<h2 id="artifacts-title">Artifacts</h2>
<ul id="artifacts" class="artifacts">${join(items, "")}</ul>
</section>`;
}

/** The job page's log as read for it. */
export interface LogView {
  /** The whole log: every range's header and the lines of it shown at first. */
  ranges: RangeView[];
  /** The log's sections as the runner recorded them beside it. */
  sections: LogSectionRecord[];
  /** Lines in the log so far. */
  lineCount: number;
  /** Where the live tail starts (the chunk after the last one read). */
  nextSeq: number;
  /** The failure's first error line and last line, when the job failed. */
  jumps?: { firstError?: number; end: number };
}

export interface JobPageInput extends LogView {
  build: BuildRecord;
  job: JobRecord;
  canWrite: boolean;
  /** The server's clock (epoch ms): how long a running job has run, from its start. */
  now: number;
  /** The files the job kept (`artifacts:`), for download. */
  artifacts?: readonly ArtifactEntry[];
}

export function renderJobPage(ctx: PageContext, input: JobPageInput): Html {
  const { build, job } = input;
  const live = !isFinal(job.status);
  const checkRun =
    job.checkRunId !== undefined
      ? markup` · <a href="${gh(ctx, `${encodePath(build.repoFullName)}/runs/${job.checkRunId}`)}">Check run on GitHub</a>`
      : "";
  const { jumps } = input;
  const firstError =
    jumps?.firstError !== undefined
      ? markup`<a href="#L${jumps.firstError}" class="jump">First error</a> · `
      : "";
  const main = markup`
${renderBreadcrumbs(build, job)}
<h1>${build.repoFullName} · ${job.hook}</h1>
<dl class="facts">
  <dt>Repository</dt><dd><a href="${gh(ctx, encodePath(build.repoFullName))}">${build.repoFullName}</a></dd>
  <dt>Commit</dt><dd>${commitLink(ctx, build)} on ${refLabel(build, ctx)}</dd>
  <dt>Hook</dt><dd>${job.hook}</dd>
  <dt>Trigger</dt><dd>${describeTrigger(build)}</dd>
  <dt>Status</dt><dd><span id="status" role="status">${renderJobStatus(job)}</span></dd>
  <dt>Durations</dt><dd id="durations">${renderDurations(job)}</dd>
  ${job.tests ? markup`<dt>Tests</dt><dd id="tests">${describeTestCounts(job.tests)}</dd>` : ""}
  <dt>Started</dt><dd id="started">${time(job.startedAt)}${renderElapsed(job, input.now)}</dd>
</dl>
<div class="links"><a href="/jobs/${encodeURIComponent(job.id)}/log.txt">Raw log</a>${checkRun} <span id="actions">${renderJobActions(ctx, build, job, input.canWrite)}</span></div>
${renderArtifacts(job.id, input.artifacts ?? [])}
<section aria-labelledby="log-title">
<h2 id="log-title">Log</h2>
<div class="log-tools">
${live ? markup`<label class="follow"><input type="checkbox" id="follow" checked> Follow new lines</label> <button type="button" id="follow-again" class="follow-again" hidden>Follow again</button> <noscript>New lines appear when you reload this page (following needs JavaScript).</noscript>` : ""}
<label><input type="checkbox" id="show-timestamps"> Timestamps</label>
<label id="timestamp-kind-label" hidden>as <select id="timestamp-kind"><option value="clock">clock time (UTC)</option><option value="elapsed">time since the job started</option></select></label>
${jumps ? markup`<nav class="jumps" aria-label="The failure">${firstError}<a href="#L${jumps.end}" class="jump">End</a></nav>` : ""}
<form role="search" class="log-search" id="log-search" hidden><label for="log-query">Search the log</label> <input type="search" id="log-query" name="q" autocomplete="off" maxlength="200"> <button type="button" id="log-prev">Previous match</button> <button type="submit">Next match</button> <span id="log-hits" role="status"></span></form>
</div>
<div id="log" class="log" data-live="${live}" data-next-seq="${input.nextSeq}" data-job="${job.id}" data-lines="${input.lineCount}">
${renderLogRanges(input.ranges, input.sections)}
</div>
${input.lineCount === 0 && !live ? markup`<p>The log is empty.</p>` : ""}
</section>`;
  return renderLayout(
    ctx,
    `${job.hook} · ${build.repoFullName}`,
    main,
    // log-tools.js first: what it shows in the tools bar moves the log, so it goes before
    // log-page.js scrolls to the failure or a linked line.
    live
      ? ["/assets/log-tools.js", "/assets/log-page.js", "/assets/follow.js"]
      : ["/assets/log-tools.js", "/assets/log-page.js"],
  );
}

export function renderBuildPage(
  ctx: PageContext,
  build: BuildRecord,
  jobs: JobRecord[],
  canWrite: boolean,
): Html {
  const rows = jobs.map(
    (job) =>
      markup`<tr><td><a href="/jobs/${encodeURIComponent(job.id)}">${job.hook}</a></td><td>${badge(job)}</td><td>${formatSeconds(job.durations?.total)}</td><td>${renderSectionSummary(job)}</td><td>${renderJobActions(ctx, build, job, canWrite, true)}</td></tr>`,
  );
  const rerunAll =
    canWrite && ctx.viewer && jobs.every((job) => isFinal(job.status))
      ? markup`<form method="post" action="/builds/${encodeURIComponent(build.id)}/rerun" class="inline">${csrfField(ctx.viewer)}<button type="submit">Re-run all hooks</button></form>`
      : "";
  const main = markup`
${renderBreadcrumbs(build)}
<h1>${build.repoFullName} · ${build.sha.slice(0, 7)}</h1>
<dl class="facts">
  <dt>Repository</dt><dd><a href="/repos/${encodePath(build.repoFullName)}">${build.repoFullName}</a></dd>
  <dt>Commit</dt><dd>${commitLink(ctx, build)} on ${refLabel(build, ctx)}</dd>
  <dt>Trigger</dt><dd>${describeTrigger(build)}</dd>
  <dt>Created</dt><dd>${time(build.createdAt)}</dd>
</dl>
<table>
<caption>Hooks of this build</caption>
<thead><tr><th scope="col">Hook</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Sections and install cache</th><th scope="col">Actions</th></tr></thead>
<tbody>
${join(rows, "\n")}
</tbody>
</table>
<p>${rerunAll}</p>`;
  return renderLayout(ctx, `${build.repoFullName} ${build.sha.slice(0, 7)}`, main);
}

export function renderRepositoryPage(
  ctx: PageContext,
  fullName: string,
  builds: { build: BuildRecord; jobs: JobRecord[] }[],
  olderHref: string | undefined,
  /**
   * `admin`: link the secrets page; `write`: show the Run form; `asked`: a run was just
   * asked for.
   */
  viewer: { admin: boolean; write: boolean; asked: boolean },
): Html {
  const byLine = new Map<string, { build: BuildRecord; jobs: JobRecord[] }[]>();
  for (const item of builds) {
    const line =
      item.build.pullRequest !== undefined
        ? `pull request #${item.build.pullRequest}`
        : `branch ${branchOf(item.build.ref)}`;
    byLine.set(line, [...(byLine.get(line) ?? []), item]);
  }
  const sections = [...byLine].map(
    ([line, items]) => markup`<section><h2>${line}</h2><ul class="builds">
${join(
  items.map(
    ({ build, jobs }) =>
      markup`<li><a href="/builds/${encodeURIComponent(build.id)}"><code>${build.sha.slice(0, 7)}</code></a> <span class="state state-${combinedState(jobs).replace(" ", "-")}">${combinedState(jobs)}</span> ${describeTrigger(build)}, ${time(build.createdAt)}</li>`,
  ),
  "\n",
)}
</ul></section>`,
  );
  const main = markup`
<h1>Builds of ${fullName}</h1>
<p><a href="${gh(ctx, encodePath(fullName))}">${fullName} on GitHub</a>${viewer.admin ? markup` · <a href="/repos/${encodePath(fullName)}/secrets">Secrets</a>` : ""}</p>
${viewer.asked ? markup`<p role="status">Run asked for: Kozmic is planning it; it appears here in a moment.</p>` : ""}
${viewer.write && ctx.viewer ? renderRunForm(ctx.viewer, fullName) : ""}
${sections.length ? join(sections, "\n") : markup`<p>No builds yet.</p>`}
${olderHref ? markup`<p><a href="${olderHref}">Older builds</a></p>` : ""}`;
  return renderLayout(ctx, `Builds of ${fullName}`, main);
}

/** "Run": a branch's head by hand, with optional inputs the jobs get as environment variables. */
function renderRunForm(viewer: PageViewer, fullName: string): Html {
  return markup`<details class="run"><summary>Run a branch</summary>
<form method="post" action="/repos/${encodePath(fullName)}/run">${csrfField(viewer)}
<p><label>Branch <input name="branch" required maxlength="255" value="main"></label></p>
<p><label>Inputs, one <code>NAME=value</code> a line (environment variables of every job)<br><textarea name="inputs" rows="3" cols="50"></textarea></label></p>
<p><button type="submit">Run</button></p>
</form></details>`;
}

/**
 * Between Re-run and the new build: the planner has it and makes it in a moment. The page's
 * script asks again every second and follows the redirect once there is one; without
 * JavaScript the link does.
 */
export function renderRerunWaitPage(
  ctx: PageContext,
  from: BuildRecord,
  hook: string | undefined,
): Html {
  const what = hook !== undefined ? markup`<strong>${hook}</strong>` : "all hooks";
  const main = markup`
${renderBreadcrumbs(from)}
<h1>Re-running ${from.repoFullName} · ${from.sha.slice(0, 7)}</h1>
<p role="status" id="rerun-wait" data-reload="1000">Re-run of ${what} asked for: Kozmic is planning it. This page moves to the new ${hook !== undefined ? "job's live log" : "build"} as soon as it exists.</p>
<p><a href="${ctx.path}">Check again</a> · <a href="/repos/${encodePath(from.repoFullName)}">Builds of ${from.repoFullName}</a></p>`;
  return renderLayout(ctx, `Re-running ${from.repoFullName}`, main, ["/assets/rerun-wait.js"]);
}

/** The same page for what does not exist and what the viewer may not see. */
export function renderNotFoundPage(ctx: PageContext): Html {
  const hint = ctx.viewer
    ? markup`<p>It does not exist, or your GitHub account <strong>${ctx.viewer.login}</strong> cannot read its repository.</p>`
    : ctx.loginEnabled
      ? markup`<p>It does not exist, or it belongs to a private repository: <a href="/login?return_to=${encodeURIComponent(ctx.path)}">sign in with GitHub</a> to see the private repositories you can read.</p>`
      : markup`<p>It does not exist, or it belongs to a private repository (signing in is not configured on this Kozmic).</p>`;
  return renderLayout(ctx, "Not found", markup`<h1>Not found</h1>${hint}`);
}

export function renderMessagePage(ctx: PageContext, title: string, message: string): Html {
  return renderLayout(ctx, title, markup`<h1>${title}</h1><p>${message}</p>`);
}
