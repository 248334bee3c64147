import type { CacheRegistry } from "./cache-registry.js";

/** How the runner host limits and connects job containers; filled from KOZMIC_* by the CLI. */
export interface PipelineSettings {
  defaultMemoryBytes: number;
  defaultCpus: number;
  defaultPids: number;
  /** The most memory and CPUs a hook may ask for (KOZMIC_MAX_MEMORY, KOZMIC_MAX_CPUS). */
  maxMemoryBytes: number;
  maxCpus: number;
  /** The Docker network behind a hook's `network: default`: "none", "host" or a network name. */
  network: string;
  /**
   * KOZMIC_NETWORK is unset: `network` is "bridge" where the engine has that network, and
   * "none" (said in the job's log) where it does not (dockerd --bridge=none).
   */
  networkIsDefault?: boolean;
  allowHostNetwork: boolean;
  /** Sets Docker's no-new-privileges on every step container: sudo then cannot become root. */
  noNewPrivileges: boolean;
  /** The containers' OCI runtime (Docker's `--runtime`), e.g. a sandboxing runtime; unset: Docker's default. */
  runtime?: string;
  /** Cache images kept per repository and hook. */
  cacheKeep: number;
  /** Total bytes of cache images kept on the host; undefined means no budget. */
  cacheMaxBytes?: number;
  /** The fleet's install cache (KOZMIC_CACHE_REGISTRY): pushed after a commit, pulled on a miss. */
  cacheRegistry?: CacheRegistry;
  /** Where lock files and cache usage live. */
  dataDir: string;
  /**
   * Where steps' `/kozmic` directories are written to be bind-mounted (see run-step.ts);
   * undefined: stepWorkspaces(dataDir), this process's own.
   */
  workspacesDir?: string;
  /** Who applies these settings, for messages: "this runner" (default) or "this machine". */
  place?: string;
}
