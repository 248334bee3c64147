import type { PipelineSettings } from "../../src/core/pipeline-settings.js";

/** Small limits for test jobs; ceilings as on a 2-CPU, 4 GiB runner. */
export function testPipelineSettings(
  dataDir: string,
  overrides: Partial<PipelineSettings> = {},
): PipelineSettings {
  return {
    defaultMemoryBytes: 256 * 1024 ** 2,
    defaultCpus: 1,
    defaultPids: 128,
    maxMemoryBytes: 4 * 1024 ** 3,
    maxCpus: 2,
    network: "none",
    allowHostNetwork: false,
    noNewPrivileges: false,
    cacheKeep: 3,
    dataDir,
    ...overrides,
  };
}
