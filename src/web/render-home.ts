import type { StarterConfig } from "../core/starter/render-starter-config.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { branchOf, combinedState, describeTrigger } from "./describe-status.js";
import { escapeHtml as e } from "./render-ansi.js";
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

function renderRow(ctx: PageContext, row: HomeRepository, index: number): string {
  const { repository: repo, last } = row;
  const name = `<a href="/repos/${e(repoPath(repo.fullName))}">${e(repo.fullName)}</a>${repo.private ? ' <span class="private">private</span>' : ""}`;
  if (last) {
    const state = combinedState(last.jobs);
    const when = new Date(last.build.createdAt).toISOString().slice(0, 16).replace("T", " ");
    return `<li>${name}: <a href="/builds/${encodeURIComponent(last.build.id)}"><span class="state state-${state.replace(" ", "-")}">${e(state)}</span></a>
<code>${e(last.build.sha.slice(0, 7))}</code> on <code>${e(branchOf(last.build.ref))}</code>, ${e(describeTrigger(last.build))}, ${e(when)} UTC</li>`;
  }
  if (row.hasConfig)
    return `<li>${name}: has <code>.github/kozmic.yml</code>; no build yet: push a commit</li>`;
  if (!row.starter) return `<li>${name}: no builds yet</li>`;
  const id = `starter-${index}`;
  const file = `${ctx.githubWebUrl}/${repoPath(repo.fullName)}/new/${encodeURIComponent(repo.defaultBranch)}?filename=.github/kozmic.yml`;
  return `<li>${name}: no <code>.github/kozmic.yml</code> yet.
<details><summary>A starter configuration (${e(row.starter.title)}${row.starter.evidence.length ? `, from ${e(row.starter.evidence.join(", "))}` : ""})</summary>
<p>Copy it into <a href="${e(file)}">a new file <code>.github/kozmic.yml</code></a> on <code>${e(repo.defaultBranch)}</code>, or run <code>kozmic init</code> in a clone.</p>
<pre class="starter" id="${id}" tabindex="0" aria-label="Starter .github/kozmic.yml for ${e(repo.fullName)}">${e(row.starter.text)}</pre>
</details></li>`;
}

/** The home page: the signed-in user's repositories, or how to sign in. */
export function renderHomePage(ctx: PageContext, rows: HomeRepository[] | undefined): string {
  if (!rows) {
    const how = ctx.loginEnabled
      ? `<p><a href="/login?return_to=%2F">Sign in with GitHub</a> to see the repositories Kozmic is installed on, with their last builds.</p>`
      : "<p>Sign-in is not configured on this Kozmic (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and KOZMIC_SESSION_SECRET), so there is no list of repositories here; each check run's Details link opens its log.</p>";
    return renderLayout(
      ctx,
      "Kozmic",
      `<h1>Kozmic</h1><p>Continuous integration as a GitHub App.</p>${how}`,
    );
  }
  const list = rows.length
    ? `<ul class="repositories">\n${rows.map((row, i) => renderRow(ctx, row, i)).join("\n")}\n</ul>`
    : "<p>No repository of yours has the App installed yet: install it from the App's page on GitHub, then come back.</p>";
  return renderLayout(ctx, "Your repositories", `<h1>Your repositories</h1>\n${list}`);
}
