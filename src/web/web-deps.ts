import type { SecretVault } from "../secrets/secret-vault.js";
import type { BuildRecord, JobRecord, Store } from "../store/port.js";
import type { ArtifactStore } from "../store/artifact-port.js";
import type { WebSettings } from "../settings/web-settings.js";

/** What the pages' buttons do; the app implements them (cancel may be `store.requestCancel`). */
export interface WebActions {
  /**
   * Runs the build again: every hook, or only `hook`. `actor` is the GitHub login. Answers
   * the id the new build will have (it may be planned a moment later).
   */
  rerun(build: BuildRecord, hook: string | undefined, actor: string): Promise<{ buildId: string }>;
  cancel(job: JobRecord, actor: string): Promise<void>;
  /**
   * Runs the hooks (those whose `on` allows `manual`) at the head of `branch`, each job
   * with `inputs` as environment variables. Answers the id the new build will have.
   */
  dispatch?(
    repo: RepositoryRef,
    branch: string,
    inputs: Record<string, string>,
    actor: string,
  ): Promise<{ buildId: string }>;
}

export interface RepositoryRef {
  /** GitHub's repository id: builds are stored under it. */
  id: number;
  fullName: string;
  private: boolean;
  /** The app's installation on it, where the finder knows it (a run by hand needs it). */
  installationId?: number;
}

export interface WebDeps {
  store: Store;
  settings: WebSettings;
  actions: WebActions;
  /**
   * The repository called `owner/repo` if Kozmic is installed on it (repository pages and
   * badges are addressed by name, builds by id); the app answers from GitHub or its records.
   */
  findRepository(fullName: string): Promise<RepositoryRef | undefined>;
  /** How often a live tail looks for new log chunks; default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * How long one live-tail response stays open (default 5 minutes); the browser then
   * reconnects where it stopped. 0 answers with the lines there are and ends: for AWS Lambda,
   * whose responses are buffered, following becomes polling every 2 seconds.
   */
  liveMaxMs?: number;
  /** Jobs' kept files, listed on their pages; without it none are listed. */
  artifacts?: ArtifactStore;
  /** Repository secrets, managed by the repository's admins; absent when this Kozmic has no key. */
  secrets?: Pick<SecretVault, "list" | "set" | "remove">;
  /**
   * How long GitHub's answer on a user's access to a repository is trusted for pages;
   * default 10 s. A POST always asks again.
   */
  accessTtlMs?: number;
}
