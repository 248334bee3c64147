import { collectDefaultMetrics, Registry } from "prom-client";

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
