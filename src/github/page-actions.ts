import type { Logger } from "probot";
import { ChecksReporter, type RequestOctokit } from "../checks/checks-reporter.js";
import type { EventFacts } from "../core/plan-jobs.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import type { AppDeps } from "./app-deps.js";
import { cancelJob } from "./cancel-job.js";
import { repositoryFacts, type PayloadRepository } from "./repository-facts.js";
import { startBuild } from "./start-build.js";

/** An Octokit authenticated as one installation of the app (Probot's `app.auth(id)`). */
export type InstallationAuth = (installationId: number) => Promise<RequestOctokit>;

/**
 * The log pages' "Re-run" and "Cancel" buttons, done as GitHub's own buttons are: a re-run
 * plans the build's hooks again at its commit with the build's trust, a cancel ends a queued
 * job or flags a running one. The pages have checked the user's write access.
 */
export function createPageActions(deps: AppDeps, auth: InstallationAuth, log: Logger) {
  return {
    async rerun(build: BuildRecord, hook: string | undefined, actor: string): Promise<void> {
      const octokit = await auth(build.installationId);
      const [owner, repo] = splitFullName(build.repoFullName);
      // The build keeps no clone URL; the repository's current one is the one to fetch from.
      const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo });
      const facts: EventFacts = {
        event: "rerun",
        installationId: build.installationId,
        repository: repositoryFacts(data as PayloadRepository).repository,
        sha: build.sha,
        ref: build.ref,
        trust: build.trust,
        trigger: `rerun by ${actor}`,
      };
      if (build.pullRequest !== undefined) facts.pullRequest = build.pullRequest;
      if (hook !== undefined) facts.onlyHooks = [hook];
      const outcome = await startBuild(deps, {
        octokit,
        log,
        deliveryId: `page-rerun:${deps.newId()}`,
        owner,
        repo,
        facts,
        lineTime: build.createdAt,
      });
      log.info(
        { buildId: build.id, hook, actor, outcome: outcome.outcome },
        "re-run from the log pages",
      );
    },

    async cancel(job: JobRecord, actor: string): Promise<void> {
      const build = await deps.store.getBuild(job.buildId);
      if (!build) throw new Error(`job ${job.id} has no build ${job.buildId}`);
      const [owner, repo] = splitFullName(job.repoFullName);
      const reporter = new ChecksReporter(await auth(build.installationId), { now: deps.now });
      await cancelJob(deps, reporter, { owner, repo }, job, `Cancelled by ${actor}.`);
    },
  };
}

function splitFullName(fullName: string): [string, string] {
  const [owner, repo] = fullName.split("/");
  if (!owner || !repo) throw new Error(`"${fullName}" is not an owner/name repository name`);
  return [owner, repo];
}
