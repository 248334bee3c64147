import type { TrustScope } from "../../src/core/cache-key.js";
import type { Hook } from "../../src/core/config/schema.js";
import { formatBytes } from "../../src/core/duration.js";
import { PermanentError } from "../../src/core/errors.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";

export interface StepLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  network: string;
  /** What was lowered and why, for the job's log. */
  notes: string[];
}

/**
 * The container limits and network of a job. A hook may ask for up to the runner's
 * ceilings (KOZMIC_MAX_*); above them is a configuration error. Untrusted (fork) jobs get
 * at most the runner's defaults and never the host network. Pure.
 */
export function resolveLimits(
  hook: Hook,
  scope: TrustScope,
  settings: PipelineSettings,
): StepLimits {
  const where = settings.place ?? "this runner";
  const defaultMemory = Math.min(settings.defaultMemoryBytes, settings.maxMemoryBytes);
  const defaultCpus = Math.min(settings.defaultCpus, settings.maxCpus);
  if (hook.memory !== undefined && hook.memory > settings.maxMemoryBytes) {
    throw new PermanentError(
      `hook "${hook.name}" asks for memory: ${formatBytes(hook.memory)}, above the most ${where} ` +
        `allows (KOZMIC_MAX_MEMORY=${formatBytes(settings.maxMemoryBytes)}); ask for less in .github/kozmic.yml`,
    );
  }
  if (hook.cpus !== undefined && hook.cpus > settings.maxCpus) {
    throw new PermanentError(
      `hook "${hook.name}" asks for cpus: ${hook.cpus}, above the most ${where} ` +
        `allows (KOZMIC_MAX_CPUS=${settings.maxCpus}); ask for less in .github/kozmic.yml`,
    );
  }
  const notes: string[] = [];
  let memory = hook.memory ?? defaultMemory;
  let cpus = hook.cpus ?? defaultCpus;
  if (scope === "untrusted") {
    if (memory > defaultMemory) {
      notes.push(
        `memory limited to ${formatBytes(defaultMemory)} (the default): pull requests from forks cannot raise it`,
      );
      memory = defaultMemory;
    }
    if (cpus > defaultCpus) {
      notes.push(
        `cpus limited to ${defaultCpus} (the default): pull requests from forks cannot raise it`,
      );
      cpus = defaultCpus;
    }
  }
  return {
    memoryBytes: memory,
    nanoCpus: Math.round(cpus * 1e9),
    pidsLimit: settings.defaultPids,
    network: resolveNetwork(hook, scope, settings, notes),
    notes,
  };
}

function resolveNetwork(
  hook: Hook,
  scope: TrustScope,
  settings: PipelineSettings,
  notes: string[],
): string {
  const where = settings.place ?? "this runner";
  if (hook.network === "none") return "none";
  if (hook.network === "host") {
    if (scope === "untrusted") {
      throw new PermanentError(
        `hook "${hook.name}" asks for network: host, which is never given to pull requests from forks`,
      );
    }
    if (!settings.allowHostNetwork) {
      throw new PermanentError(
        `hook "${hook.name}" asks for network: host, which ${where} does not allow ` +
          `(KOZMIC_ALLOW_HOST_NETWORK=true where the jobs run permits it)`,
      );
    }
    return "host";
  }
  if (settings.network === "host" && scope === "untrusted") {
    notes.push("network: none, since pull requests from forks never get the host network");
    return "none";
  }
  return settings.network;
}
