/** How the runner host limits and connects job containers; filled from KOZMIC_* by the CLI. */
export interface PipelineSettings {
  defaultMemoryBytes: number;
  defaultCpus: number;
  defaultPids: number;
  /** The Docker network behind a hook's `network: default`: "none", "host" or a network name. */
  network: string;
  allowHostNetwork: boolean;
  /** Cache images kept per repository and hook. */
  cacheKeep: number;
  /** Total bytes of cache images kept on the host; undefined means no budget. */
  cacheMaxBytes?: number;
  /** Where lock files and cache usage live. */
  dataDir: string;
}
