import { renderStarterConfig, type StarterConfig } from "../core/starter/render-starter-config.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { HttpError } from "./http-replies.js";
import { renderHomePage, type HomeRepository } from "./render-home.js";
import { pageContext, sendHtml, type Page } from "./web-request.js";
import { listUserRepositories, readStarterInputs } from "./user-repositories.js";

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
      const [build] = await store.listBuilds(repo.id, { limit: 1 });
      let last: { build: BuildRecord; jobs: JobRecord[] } | undefined;
      if (build) last = { build, jobs: await store.listJobs(build.id) };
      let starter: StarterConfig | undefined;
      let hasConfig: boolean | undefined;
      if (!last && lookups < MAX_CONFIG_LOOKUPS) {
        lookups += 1;
        const inputs = await readStarterInputs(githubApiUrl, r.viewer.token, repo);
        hasConfig = inputs.hasConfig;
        if (!inputs.hasConfig) starter = renderStarterConfig(inputs.root);
      }
      rows.push({
        repository: repo,
        ...(last ? { last } : {}),
        ...(hasConfig !== undefined ? { hasConfig } : {}),
        ...(starter ? { starter } : {}),
      });
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
