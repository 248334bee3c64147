import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/**
 * Answers `GET /metrics` (Prometheus text format) and `GET /healthz`; false for any other
 * request, which the caller then serves itself.
 */
export function serveMetrics(
  registry: Registry,
  health: () => Record<string, unknown>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = req.url?.split("?")[0];
    if (req.method !== "GET") return false;
    if (path === "/healthz") {
      res
        .writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
        .end(JSON.stringify({ status: "ok", ...health() }));
      return true;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) =>
          res.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`),
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
  registry: Registry,
  listen: { host: string; port: number },
  health: () => Record<string, unknown>,
): Promise<MetricsServer> {
  const handle = serveMetrics(registry, health);
  const server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404, { "content-type": "text/plain" }).end("Not found\n");
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
