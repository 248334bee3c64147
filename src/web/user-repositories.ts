import { wantsText, type RepositoryTree } from "../core/starter/repository-tree.js";
import { GitHubUnavailableError } from "./github-user-api.js";
import { encodePath } from "./html.js";

/** A repository of an installation of the App that the signed-in user can see. */
export interface UserRepository {
  id: number;
  fullName: string;
  private: boolean;
  defaultBranch: string;
}

/** Most repositories the home page lists (and GitHub pages it reads for them). */
const MAX_REPOSITORIES = 100;

async function getJson(url: string, token: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        authorization: `token ${token}`,
        accept: "application/vnd.github+json",
        "user-agent": "kozmic-log-pages",
      },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new GitHubUnavailableError(`GitHub could not be reached: ${(error as Error).message}`);
  }
  if (response.status >= 500)
    throw new GitHubUnavailableError(`GitHub answered ${response.status}`);
  try {
    return { status: response.status, body: await response.json() };
  } catch {
    throw new GitHubUnavailableError("GitHub's answer is not JSON");
  }
}

/**
 * The repositories of the App's installations that the user's token can see
 * (GET /user/installations, then each one's repositories), by name, at most 100.
 */
export async function listUserRepositories(
  apiUrl: string,
  token: string,
): Promise<UserRepository[]> {
  const installations = await getJson(`${apiUrl}/user/installations?per_page=100`, token);
  const ids =
    installations.status === 200
      ? ((installations.body as { installations?: { id: number }[] }).installations ?? []).map(
          (i) => i.id,
        )
      : [];
  const repositories: UserRepository[] = [];
  for (const id of ids) {
    if (repositories.length >= MAX_REPOSITORIES) break;
    const page = await getJson(
      `${apiUrl}/user/installations/${id}/repositories?per_page=100`,
      token,
    );
    if (page.status !== 200) continue;
    const { repositories: repos = [] } = page.body as {
      repositories?: { id: number; full_name: string; private: boolean; default_branch?: string }[];
    };
    for (const repo of repos)
      repositories.push({
        id: repo.id,
        fullName: repo.full_name,
        private: repo.private,
        defaultBranch: repo.default_branch ?? "main",
      });
  }
  return repositories
    .sort((a, b) => a.fullName.localeCompare(b.fullName))
    .slice(0, MAX_REPOSITORIES);
}

/**
 * Whether the default branch has `.github/kozmic.yml`, and if not, its files (paths from
 * one recursive tree, and the text of the few files the starter reads) for `kozmic init`'s guess.
 */
export async function readStarterInputs(
  apiUrl: string,
  token: string,
  repo: UserRepository,
): Promise<{ hasConfig: true } | { hasConfig: false; root: RepositoryTree }> {
  const base = `${apiUrl}/repos/${encodePath(repo.fullName)}`;
  const ref = encodeURIComponent(repo.defaultBranch);
  const config = await getJson(`${base}/contents/.github/kozmic.yml?ref=${ref}`, token);
  if (config.status === 200) return { hasConfig: true };
  const tree = await getJson(`${base}/git/trees/${ref}?recursive=1`, token);
  const entries =
    tree.status === 200
      ? ((tree.body as { tree?: { path: string; type: string }[] }).tree ?? [])
      : [];
  const paths = entries.filter((e) => e.type === "blob").map((e) => e.path);
  const texts: Record<string, string> = {};
  const depth = (path: string) => path.split("/").length;
  const wanted = paths.filter(wantsText).sort((a, b) => depth(a) - depth(b));
  for (const path of wanted.slice(0, MAX_TEXTS_READ)) {
    const file = await getJson(`${base}/contents/${encodePath(path)}?ref=${ref}`, token);
    const content = (file.body as { content?: string; encoding?: string }).content;
    if (file.status === 200 && content !== undefined)
      texts[path] = Buffer.from(content, "base64").toString("utf8");
  }
  return { hasConfig: false, root: { paths, texts } };
}

/** GitHub requests per repository for the starter's guess, at most. */
const MAX_TEXTS_READ = 12;
