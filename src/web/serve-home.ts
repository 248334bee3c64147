import { renderStarterConfig, type StarterConfig } from "../core/starter/render-starter-config.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { branchOf, combinedState, describeTrigger } from "./describe-status.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { encodePath, join, markup, type Html } from "./html.js";
import { HttpError, sendHtml } from "./http-replies.js";
import { renderLayout, type PageContext } from "./render-pages.js";
import { pageContext, type Page } from "./web-request.js";
import {
  listUserRepositories,
  readStarterInputs,
  type UserRepository,
} from "./user-repositories.js";

/** Repositories without builds whose configuration is looked up on one visit (GitHub calls). */
const MAX_CONFIG_LOOKUPS = 10;

/**
 * GET /: for a signed-in user, the repositories of the App's installations they can see,
 * each with its last build; those without builds and without `.github/kozmic.yml` get a
 * starter configuration (kozmic init's guess from their root). Others see how to sign in.
 */
export const serveHome: Page = async (web, r) => {
  const ctx = pageContext(web, r);
  if (!r.viewer) return sendHtml(200, renderHomePage(ctx, undefined));
  const { githubApiUrl } = web.deps.settings;
  const { store } = web.deps;
  let rows: HomeRepository[];
  try {
    const repositories = await listUserRepositories(githubApiUrl, r.viewer.token);
    let lookups = 0;
    rows = [];
    for (const repo of repositories) {
      const row: HomeRepository = { repository: repo };
      const [build] = await store.listBuilds(repo.id, { limit: 1 });
      if (build) row.last = { build, jobs: await store.listJobs(build.id) };
      else if (lookups < MAX_CONFIG_LOOKUPS) {
        lookups += 1;
        const inputs = await readStarterInputs(githubApiUrl, r.viewer.token, repo);
        row.hasConfig = inputs.hasConfig;
        if (!inputs.hasConfig) row.starter = renderStarterConfig(inputs.root);
      }
      rows.push(row);
    }
  } catch (error) {
    if (error instanceof GitHubUnavailableError) {
      throw new HttpError(
        503,
        `GitHub could not be asked for your repositories (${error.message}); try again in a minute.`,
      );
    }
    throw error;
  }
  return sendHtml(200, renderHomePage(ctx, rows));
};

interface HomeRepository {
  repository: UserRepository;
  last?: { build: BuildRecord; jobs: JobRecord[] };
  /** Looked up only for repositories without builds. */
  hasConfig?: boolean;
  starter?: StarterConfig;
}

function renderRow(ctx: PageContext, row: HomeRepository, index: number): Html {
  const { repository: repo, last } = row;
  const name = markup`<a href="/repos/${encodePath(repo.fullName)}">${repo.fullName}</a>${repo.private ? markup` <span class="private">private</span>` : ""}`;
  if (last) {
    const state = combinedState(last.jobs);
    const when = new Date(last.build.createdAt).toISOString().slice(0, 16).replace("T", " ");
    return markup`<li>${name}: <a href="/builds/${encodeURIComponent(last.build.id)}"><span class="state state-${state.replace(" ", "-")}">${state}</span></a>
<code>${last.build.sha.slice(0, 7)}</code> on <code>${branchOf(last.build.ref)}</code>, ${describeTrigger(last.build)}, ${when} UTC</li>`;
  }
  if (row.hasConfig)
    return markup`<li>${name}: has <code>.github/kozmic.yml</code>; no build yet: push a commit</li>`;
  if (!row.starter) return markup`<li>${name}: no builds yet</li>`;
  const id = `starter-${index}`;
  const file = `${ctx.githubWebUrl}/${encodePath(repo.fullName)}/new/${encodeURIComponent(repo.defaultBranch)}?filename=.github/kozmic.yml`;
  return markup`<li>${name}: no <code>.github/kozmic.yml</code> yet.
<details><summary>A starter configuration (${describeStarter(row.starter)})</summary>
<p>Copy it into <a href="${file}">a new file <code>.github/kozmic.yml</code></a> on <code>${repo.defaultBranch}</code>, or run <code>kozmic init</code> in a clone.</p>
<pre class="starter" id="${id}" tabindex="0" aria-label="Starter .github/kozmic.yml for ${repo.fullName}">${row.starter.text}</pre>
</details></li>`;
}

/** The home page: the signed-in user's repositories, or how to sign in. */
function renderHomePage(ctx: PageContext, rows: HomeRepository[] | undefined): Html {
  if (!rows) {
    const how = ctx.loginEnabled
      ? markup`<p><a href="/login?return_to=%2F">Sign in with GitHub</a> to see the repositories Kozmic is installed on, with their last builds.</p>`
      : markup`<p>Sign-in is not configured on this Kozmic (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and KOZMIC_SESSION_SECRET), so there is no list of repositories here; each check run's Details link opens its log.</p>`;
    return renderLayout(
      ctx,
      "Kozmic",
      markup`<h1>Kozmic</h1><p>Continuous integration as a GitHub App.</p>${how}`,
    );
  }
  const list = rows.length
    ? markup`<ul class="repositories">\n${join(
        rows.map((row, i) => renderRow(ctx, row, i)),
        "\n",
      )}\n</ul>`
    : markup`<p>No repository of yours has the App installed yet: install it from the App's page on GitHub, then come back.</p>`;
  return renderLayout(ctx, "Your repositories", markup`<h1>Your repositories</h1>\n${list}`);
}

/** "Python, from requirements.txt; Node.js, from web/package.json". */
function describeStarter(starter: StarterConfig): string {
  return starter.hooks
    .map((h) => {
      const files = h.evidence.map((e) => (h.dir === "" ? e : `${h.dir}/${e}`));
      return files.length > 0 ? `${h.title}, from ${files.join(", ")}` : h.title;
    })
    .join("; ");
}
