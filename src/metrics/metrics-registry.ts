import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import type { GitHubApiObserver } from "../checks/github-api-observer.js";

/**
 * A process's own Prometheus registry with Node's default metrics. prom-client is imported
 * here, statically, and this module lazily by the commands: a bundled dynamic import of a
 * CommonJS package would give only its default export.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** GitHub API errors and rate-limit waits as counters in the process's registry. */
export function createGitHubApiMetrics(registry: Registry): GitHubApiObserver {
  const registers = [registry];
  const errors = new Counter({
    name: "kozmic_github_api_errors_total",
    help: 'GitHub API answers of 400 or more by status, every attempt including those retried; "network" for no answer',
    labelNames: ["status"],
    registers,
  });
  const waits = new Counter({
    name: "kozmic_github_rate_limit_waits_total",
    help: "Requests held back by a GitHub rate limit before being tried again, by kind (primary, secondary)",
    labelNames: ["kind"],
    registers,
  });
  const waited = new Counter({
    name: "kozmic_github_rate_limit_wait_seconds_total",
    help: "Seconds GitHub asked us to wait (retry-after or until the reset) before those retries, by kind",
    labelNames: ["kind"],
    registers,
  });
  return {
    error(status) {
      errors.inc({ status: String(status) });
    },
    rateLimitWait(kind, seconds) {
      waits.inc({ kind });
      waited.inc({ kind }, seconds);
    },
  };
}
