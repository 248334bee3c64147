import type { StarterConfig } from "../core/starter/render-starter-config.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { branchOf, combinedState, describeTrigger } from "./describe-status.js";
import { markup, join, type Html } from "./html.js";
import { renderLayout, type PageContext } from "./render-pages.js";
import type { UserRepository } from "./user-repositories.js";

export interface HomeRepository {
  repository: UserRepository;
  last?: { build: BuildRecord; jobs: JobRecord[] };
  /** Looked up only for repositories without builds. */
  hasConfig?: boolean;
  starter?: StarterConfig;
}

function repoPath(fullName: string): string {
  return fullName.split("/").map(encodeURIComponent).join("/");
}

function renderRow(ctx: PageContext, row: HomeRepository, index: number): Html {
  const { repository: repo, last } = row;
  const name = markup`<a href="/repos/${repoPath(repo.fullName)}">${repo.fullName}</a>${repo.private ? markup` <span class="private">private</span>` : ""}`;
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
  const file = `${ctx.githubWebUrl}/${repoPath(repo.fullName)}/new/${encodeURIComponent(repo.defaultBranch)}?filename=.github/kozmic.yml`;
  return markup`<li>${name}: no <code>.github/kozmic.yml</code> yet.
<details><summary>A starter configuration (${describeStarter(row.starter)})</summary>
<p>Copy it into <a href="${file}">a new file <code>.github/kozmic.yml</code></a> on <code>${repo.defaultBranch}</code>, or run <code>kozmic init</code> in a clone.</p>
<pre class="starter" id="${id}" tabindex="0" aria-label="Starter .github/kozmic.yml for ${repo.fullName}">${row.starter.text}</pre>
</details></li>`;
}

/** The home page: the signed-in user's repositories, or how to sign in. */
export function renderHomePage(ctx: PageContext, rows: HomeRepository[] | undefined): Html {
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
