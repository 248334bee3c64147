import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, type Logger } from "probot";
import type { InstallationOctokitOptions } from "../checks/create-installation-octokit.js";
import { kozmicApp, type KozmicAppDeps } from "../index.js";
import { kozmicOctokit } from "./kozmic-octokit.js";
import type { ServerSettings } from "./read-server-settings.js";
import { createWorkInFlight } from "./work-in-flight.js";

export interface KozmicServer {
  port: number;
  /** `http://<host>:<port>`, as listened on. */
  url: string;
  /**
   * Stops taking connections and waits for the requests in flight and for webhook work
   * that outlived its answer (a 202 after 9 s).
   */
  stop(): Promise<void>;
  /** Resolves when no webhook work is running. */
  idle(): Promise<void>;
}

export interface KozmicServerOptions extends Omit<KozmicAppDeps, "publicUrl"> {
  /** Octokit retry/throttle tuning; tests pass `{ paceWrites: false, retryAfterBaseValue: 1 }`. */
  octokit?: InstallationOctokitOptions;
  /** A pino logger; Probot makes one at `settings.logLevel` when absent. */
  log?: Logger;
}

/**
 * The app's Node server: Probot's webhook endpoint at /api/github/webhooks, `GET /ping`,
 * then the extra handlers (log pages), else 404. `settings.port` 0 picks a free port.
 */
export async function startKozmicServer(
  settings: ServerSettings,
  options: KozmicServerOptions,
): Promise<KozmicServer> {
  const probot = new Probot({
    appId: settings.appId,
    privateKey: settings.privateKey,
    secret: settings.webhookSecret,
    baseUrl: settings.baseUrl,
    Octokit: kozmicOctokit(options.octokit),
    logLevel: settings.logLevel,
    ...(settings.logFormat ? { logFormat: settings.logFormat } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const { octokit: _octokit, log: _log, ...deps } = options;
  const inFlight = createWorkInFlight();
  const middleware = await createNodeMiddleware(
    kozmicApp({ ...deps, inFlight, publicUrl: settings.publicUrl }),
    { probot },
  );
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/ping") {
      res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
      return;
    }
    void middleware(req, res, () => {
      if (res.headersSent) return;
      res.writeHead(404, { "content-type": "text/plain" }).end(`Not found: ${req.url}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === "IPv6" ? `[${address}]` : address;
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeIdleConnections();
    });
    await inFlight.idle();
  };
  return {
    port,
    url: `http://${host}:${port}`,
    stop: () => (stopped ??= stop()),
    idle: () => inFlight.idle(),
  };
}
