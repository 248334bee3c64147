import type { ObservabilityOptions } from "../metrics/metrics-server.js";
import { jobQueueFrom, planQueueFrom } from "../queue/open-queue.js";
import type { QueueLog } from "../queue/port.js";
import type { MetricsSettings } from "../settings/metrics-settings.js";
import type { StorageSettings } from "../settings/storage-settings.js";
import { storeFrom } from "../store/open-store.js";

/**
 * `kozmic runner`'s and `kozmic serve`'s job queue, planning queue and store, with one close
 * for the three; none is left open when another cannot be opened.
 */
export async function openStorage(storage: StorageSettings, log?: QueueLog) {
  let queue;
  let planQueue;
  try {
    queue = jobQueueFrom(storage, log);
    planQueue = planQueueFrom(storage, log);
    const parts = { queue, planQueue, store: storeFrom(storage) };
    return {
      ...parts,
      close: async () => {
        for (const part of Object.values(parts)) await part.close();
      },
    };
  } catch (error) {
    await queue?.close();
    await planQueue?.close();
    throw error;
  }
}

/**
 * This process's registry for /metrics: GitHub API errors and rate-limit waits, and the
 * runner's metrics where it runs jobs.
 */
export async function processMetrics(runsJobs: boolean) {
  const { createMetricsRegistry, createGitHubApiMetrics } =
    await import("../metrics/metrics-registry.js");
  const registry = createMetricsRegistry();
  const github = createGitHubApiMetrics(registry);
  const runner = runsJobs
    ? (await import("../../runner/metrics/runner-metrics.js")).createRunnerMetrics(registry)
    : undefined;
  return { registry, github, runner };
}

/** The metrics server on KOZMIC_METRICS_PORT, or undefined once why it cannot listen is printed. */
export async function serveMetrics(
  command: string,
  at: Required<MetricsSettings>,
  options: ObservabilityOptions,
) {
  const { startMetricsServer } = await import("../metrics/metrics-server.js");
  try {
    return await startMetricsServer(at, options);
  } catch (error) {
    console.error(
      `${command}: cannot serve metrics on ${at.host}:${at.port} ` +
        `(${(error as Error).message}); set KOZMIC_METRICS_PORT to a free port`,
    );
    return undefined;
  }
}
