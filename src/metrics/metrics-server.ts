import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface ObservabilityOptions {
  /** Served at /metrics; without one, /metrics is left to the caller (a 404). */
  registry?: Registry | undefined;
  /** Fields /healthz adds to `{ "status": "ok" }`. */
  health?: () => Record<string, unknown>;
  /** A failed collection; the scraper gets a 500 without the error's text. */
  onError?: (error: unknown) => void;
}

/**
 * The one handler of `GET /healthz` and `GET /metrics` (Prometheus text format), for
 * `kozmic serve` and the runner's own server: true when it answered, false for any other
 * request, which the caller then serves itself.
 */
export function healthAndMetrics(
  options: ObservabilityOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { registry, health, onError } = options;
  return (req, res) => {
    const path = req.url?.split("?")[0];
    if (req.method !== "GET") return false;
    if (path === "/healthz") {
      res
        .writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
        .end(JSON.stringify({ status: "ok", ...health?.() }));
      return true;
    }
    if (path === "/metrics" && registry) {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) => {
          onError?.(error);
          res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed\n");
        },
      );
      return true;
    }
    return false;
  };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** A server of its own for /metrics and /healthz (the runner's, on KOZMIC_METRICS_PORT). */
export async function startMetricsServer(
  listen: { host: string; port: number },
  observability: ObservabilityOptions & { registry: Registry },
): Promise<MetricsServer> {
  const handle = healthAndMetrics(observability);
  const server = createServer((req, res) => {
    if (handle(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain", "x-content-type-options": "nosniff" });
    res.end("Not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { address, port, family } = server.address() as AddressInfo;
  return {
    url: `http://${family === "IPv6" ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
