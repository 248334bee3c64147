import type { RequestOctokit } from "../checks/checks-reporter.js";

/** GitHub lists at most this many files of a comparison, and of a pull request. */
export const COMPARE_FILES_CAP = 300;
export const PULL_FILES_CAP = 3000;
const PER_PAGE = 100;
const NO_COMMIT = /^0{40}$/;

/**
 * The files a push (`before`..`sha`) or a pull request changed, by path (a rename counts
 * both names). Undefined when GitHub cannot give the whole list: a new branch (no `before`),
 * a comparison GitHub refuses (404: history rewritten past it), or a list at GitHub's cap,
 * which may be cut short. Undefined runs every hook, so nothing is skipped on a guess.
 */
export async function listChangedFiles(
  octokit: RequestOctokit,
  repository: { owner: string; repo: string },
  change: { pullRequest: number } | { before: string | undefined; sha: string },
): Promise<string[] | undefined> {
  if ("pullRequest" in change) return listPullRequestFiles(octokit, repository, change.pullRequest);
  if (!change.before || NO_COMMIT.test(change.before)) return undefined;
  let data: unknown;
  try {
    ({ data } = await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
      ...repository,
      basehead: `${change.before}...${change.sha}`,
      per_page: 1,
    }));
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
  const files = (data as { files?: ChangedFile[] }).files;
  if (!files || files.length >= COMPARE_FILES_CAP) return undefined;
  return paths(files);
}

interface ChangedFile {
  filename: string;
  previous_filename?: string;
}

async function listPullRequestFiles(
  octokit: RequestOctokit,
  repository: { owner: string; repo: string },
  pullNumber: number,
): Promise<string[] | undefined> {
  const files: ChangedFile[] = [];
  for (let page = 1; page <= PULL_FILES_CAP / PER_PAGE; page++) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
      ...repository,
      pull_number: pullNumber,
      per_page: PER_PAGE,
      page,
    });
    const batch = data as ChangedFile[];
    files.push(...batch);
    if (batch.length < PER_PAGE) return paths(files);
  }
  return undefined;
}

function paths(files: readonly ChangedFile[]): string[] {
  return [
    ...new Set(
      files.flatMap((f) =>
        f.previous_filename ? [f.filename, f.previous_filename] : [f.filename],
      ),
    ),
  ];
}
