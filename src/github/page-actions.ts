import type { BuildRecord, JobRecord } from "../store/port.js";
import type { RepositoryRef } from "../web/web-deps.js";
import { rerunBuildId } from "../planner/derived-ids.js";
import { enqueuePlan, type AppDeps } from "./app-deps.js";

/**
 * The log pages' "Re-run" and "Cancel" buttons, done as GitHub's own buttons are: through
 * the planner, which plans the build's hooks again at its commit with the build's trust, or
 * ends a queued job and flags a running one. The pages have checked the user's write access.
 */
export function createPageActions(deps: AppDeps) {
  const repositoryOf = (build: BuildRecord) => ({
    id: build.repoId,
    fullName: build.repoFullName,
    private: build.repoPrivate,
  });
  return {
    async rerun(
      build: BuildRecord,
      hook: string | undefined,
      actor: string,
    ): Promise<{ buildId: string }> {
      const deliveryId = `page-rerun:${deps.newId()}`;
      await enqueuePlan(deps, deliveryId, {
        installationId: build.installationId,
        repository: repositoryOf(build),
        task: { kind: "rerun-build", buildId: build.id, ...(hook ? { hook } : {}), actor },
      });
      return { buildId: rerunBuildId(build.repoId, deliveryId) };
    },

    async dispatch(
      repo: RepositoryRef,
      branch: string,
      inputs: Record<string, string>,
      actor: string,
    ): Promise<{ buildId: string }> {
      if (repo.installationId === undefined) {
        throw new Error(`the installation of ${repo.fullName} is not known`);
      }
      const deliveryId = `page-run:${deps.newId()}`;
      await enqueuePlan(deps, deliveryId, {
        installationId: repo.installationId,
        repository: { id: repo.id, fullName: repo.fullName, private: repo.private },
        task: { kind: "manual", branch, inputs, actor },
      });
      return { buildId: rerunBuildId(repo.id, deliveryId) };
    },

    async cancel(job: JobRecord, actor: string): Promise<void> {
      const build = await deps.store.getBuild(job.buildId);
      if (!build) throw new Error(`job ${job.id} has no build ${job.buildId}`);
      // Flagged at once, so the page the button returns to says "Cancelling…"; the planner
      // then ends a queued job (a runner that claims a flagged job ends it before it starts)
      // and a running job's runner stops it.
      await deps.store.requestCancel(job.id, `Cancelled by ${actor}.`);
      await enqueuePlan(deps, `page-cancel:${deps.newId()}`, {
        installationId: build.installationId,
        repository: repositoryOf(build),
        task: { kind: "cancel", jobId: job.id, actor },
      });
    },
  };
}
