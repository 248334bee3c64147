import type { TrustScope } from "../../src/core/job-message.js";
import { NoSecretsKeyError } from "../../src/secrets/open-vault.js";

/** Where a runner reads repository secrets (a SecretVault). */
export interface SecretSource {
  /** The values of `names`; throws MissingSecretsError naming each one the repository lacks. */
  read(repoId: number, names: readonly string[]): Promise<Record<string, string>>;
}

export interface JobSecrets {
  values: Record<string, string>;
  /** For the log and the check run: why the hook's secrets were not given. */
  note?: string;
}

/**
 * The secrets a job's hook names, read before anything of the job runs: none for an
 * untrusted job (a fork's pull request), which runs without them and is told so; a clear
 * failure when one is missing or this runner has no key to open them.
 */
export async function resolveJobSecrets(
  source: SecretSource | undefined,
  job: { repoId: number; trust: TrustScope; runnerName: string },
  names: readonly string[],
): Promise<JobSecrets> {
  if (names.length === 0) return { values: {} };
  if (job.trust === "untrusted") {
    return {
      values: {},
      note:
        `Secrets ${names.join(", ")} were not given to this job: it runs code from a fork, ` +
        "and forks never receive repository secrets. It ran without them.",
    };
  }
  if (!source) throw new NoSecretsKeyError(`runner ${job.runnerName}`);
  return { values: await source.read(job.repoId, names) };
}
