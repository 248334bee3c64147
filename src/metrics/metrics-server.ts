import { Hono } from "hono";
import type { Registry } from "prom-client";
import { listen } from "../http/listen.js";
import { notFound } from "../http/not-found.js";

export interface ObservabilityOptions {
  /** Served at /metrics. */
  registry: Registry;
  /** Fields /healthz adds to `{ "status": "ok" }`. */
  health?: () => Record<string, unknown>;
  /** A failed collection; the scraper gets a 500 without the error's text. */
  onError?: (error: unknown) => void;
}

/**
 * A server of its own for `GET /metrics` (Prometheus text format) and `GET /healthz`, on
 * KOZMIC_METRICS_PORT (`kozmic serve`'s and the runner's): metrics show repository
 * activity, so they are never on the public port.
 */
export async function startMetricsServer(
  at: { host: string; port: number },
  { registry, health, onError }: ObservabilityOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.get("/healthz", (c) =>
    c.json({ status: "ok", ...health?.() }, 200, { "cache-control": "no-store" }),
  );
  app.get("/metrics", async (c) => {
    try {
      return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
    } catch (error) {
      onError?.(error);
      return c.text("metrics failed\n", 500);
    }
  });
  app.notFound(() => notFound());
  const server = await listen(app.fetch, at);
  return {
    url: server.url,
    close: () => {
      server.server.closeAllConnections();
      return server.close();
    },
  };
}
