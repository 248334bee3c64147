import type { EventFacts } from "../core/plan-jobs.js";

/** The part of a webhook's `repository` that planning and the Checks API need. */
export interface PayloadRepository {
  id: number;
  name: string;
  full_name: string;
  clone_url: string;
  private: boolean;
  owner: { login: string } | null;
}

export function repositoryFacts(repository: PayloadRepository): {
  owner: string;
  repo: string;
  repository: EventFacts["repository"];
} {
  const owner = repository.owner?.login ?? repository.full_name.split("/")[0]!;
  return {
    owner,
    repo: repository.name,
    repository: {
      id: repository.id,
      fullName: repository.full_name,
      cloneUrl: repository.clone_url,
      private: repository.private,
    },
  };
}

/** The installation a delivery came through; every event Kozmic builds on carries one. */
export function installationIdOf(payload: { installation?: { id: number } | null }): number {
  const id = payload.installation?.id;
  if (typeof id !== "number") {
    throw new Error("the delivery has no installation id; is it from the GitHub App's webhook?");
  }
  return id;
}
