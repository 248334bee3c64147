import type { PipelineSettings } from "./pipeline-settings.js";

/** How the runner daemon behaves: the runner and pipeline groups of the settings together. */
export interface RunnerSettings {
  /** Stable across restarts: containers are labelled with it so a restart finds its leftovers. */
  name: string;
  /** Jobs run at once. */
  concurrency: number;
  /** Where users read logs: `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  logCapBytes: number;
  /** How long running jobs may finish after SIGTERM before they are returned to the queue. */
  shutdownGraceMs: number;
  /** The queue's receive limit: on the last receive an infrastructure failure is final. */
  maxReceives: number;
  pipeline: PipelineSettings;
  /** Lease on a claimed job; the heartbeat renews it well before it ends. */
  leaseMs: number;
  heartbeatMs: number;
  cancelPollMs: number;
  /** Least time between two log-tail updates of a check run. */
  progressIntervalMs: number;
  /**
   * How long a job runs before its check run is marked in progress; one that ends sooner
   * reports once, straight to completed (see runner/worker/check-run-progress.ts).
   */
  inProgressDelayMs: number;
  /** First backoff before an infrastructure failure is retried; doubles per receive. */
  retryBaseSeconds: number;
  /** Long-poll wait of one receive. */
  pollWaitSeconds: number;
  /** Git mirrors no job used for this long are removed (checked at start and every 6 hours). */
  mirrorMaxAgeMs: number;
}
