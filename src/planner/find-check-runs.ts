import type { RequestOctokit } from "../checks/checks-reporter.js";

/**
 * The check runs on a commit by external id (Kozmic's job id), for a planner resuming a
 * build: a run created just before a crash is found and kept, never created twice.
 */
export async function findCheckRunsByExternalId(
  octokit: RequestOctokit,
  repository: { owner: string; repo: string },
  sha: string,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let page = 1; page <= 20; page++) {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...repository,
      ref: sha,
      filter: "all",
      per_page: 100,
      page,
    });
    const runs =
      (data as { check_runs?: { id: number; external_id: string | null }[] }).check_runs ?? [];
    for (const run of runs) {
      if (run.external_id && !found.has(run.external_id)) found.set(run.external_id, run.id);
    }
    if (runs.length < 100) break;
  }
  return found;
}
