import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, type Logger } from "probot";
import type { InstallationOctokitOptions } from "../checks/create-installation-octokit.js";
import { observedFetch } from "../checks/github-api-observer.js";
import type { JobMessage } from "../core/job-message.js";
import { appDepsOf, kozmicApp, type KozmicAppDeps } from "./kozmic-app.js";
import { healthAndMetrics } from "../metrics/metrics-server.js";
import { createWebhookDispatcher } from "./dispatch-webhook.js";
import type { RequestOctokit } from "../checks/checks-reporter.js";
import { startPlanner, type Planner, type PlannerOptions } from "../planner/start-planner.js";
import { startScheduleTimer, type ScheduleTimerOptions } from "../planner/schedule-timer.js";
import type { Queue } from "../queue/port.js";
import { kozmicOctokit } from "./kozmic-octokit.js";
import { BodyError, readRequestBody } from "./read-request-body.js";
import type { ServerSettings } from "../settings/server-settings.js";
import { MAX_WEBHOOK_BYTES, receiveWebhook, WEBHOOK_BODY_TIMEOUT_MS } from "./receive-webhook.js";
import { createWorkInFlight } from "./work-in-flight.js";
import { sendFallbackNotFound } from "./fallback-not-found.js";

export const WEBHOOK_PATH = "/api/github/webhooks";

export interface KozmicServer {
  port: number;
  /** `http://<host>:<port>`, as listened on. */
  url: string;
  /** Stops taking connections and waits for the requests and the planning in flight. */
  stop(): Promise<void>;
  /** Resolves when no webhook is being handled and the planner has nothing left to do. */
  idle(): Promise<void>;
}

export interface KozmicServerOptions extends KozmicAppDeps {
  /** The job queue the planner sends jobs to. */
  queue: Queue<JobMessage>;
  /**
   * Octokit retry/throttle tuning and the GitHub API observer (metrics); tests pass
   * `{ retryAfterBaseValue: 1 }`.
   */
  octokit?: InstallationOctokitOptions;
  /** A pino logger; Probot makes one at `settings.logLevel` when absent. */
  log?: Logger;
  /** The planner this server runs (its retry policy, poll wait); none when false. */
  planner?: Omit<PlannerOptions, "queue" | "deps"> | false;
  /** The schedule timer beside the planner (its interval); none when false or without planner. */
  scheduleTimer?: Pick<ScheduleTimerOptions, "intervalMs" | "owner"> | false;
}

/**
 * The app's Node server: the webhook endpoint at /api/github/webhooks (verify, record,
 * enqueue, answer), `GET /ping`, `GET /healthz`, then the extra handlers (log pages), else
 * 404 (/metrics too: it has a listener of its own, see `kozmic serve`); and a
 * planner doing the deliveries' GitHub work behind the planning queue. `settings.port` 0
 * picks a free port.
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
    // Probot mints installation tokens through a request of its own: observe that one too.
    ...(options.octokit?.observer
      ? { request: { fetch: observedFetch(options.octokit.observer) } }
      : {}),
    logLevel: settings.logLevel,
    ...(settings.logFormat ? { logFormat: settings.logFormat } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const {
    octokit: _octokit,
    log: _log,
    queue,
    planner: plannerOptions,
    scheduleTimer: timerOptions,
    ...deps
  } = options;
  const inFlight = createWorkInFlight();
  const middleware = await createNodeMiddleware(kozmicApp(deps), { probot });
  const dispatch = createWebhookDispatcher(appDepsOf(deps));
  const planner: Planner | undefined =
    plannerOptions === false
      ? undefined
      : startPlanner({
          ...plannerOptions,
          queue: deps.planQueue,
          deps: {
            store: deps.store,
            jobQueue: queue,
            publicUrl: settings.publicUrl,
            octokitFor: (id) => probot.auth(id) as Promise<RequestOctokit>,
            now: deps.now ?? Date.now,
            log: probot.log,
          },
        });
  const scheduleTimer =
    planner && timerOptions !== false
      ? startScheduleTimer({
          ...timerOptions,
          store: deps.store,
          planQueue: deps.planQueue,
          now: deps.now ?? Date.now,
          log: probot.log,
        })
      : undefined;

  const webhook = async (req: IncomingMessage, res: ServerResponse) => {
    let answer;
    try {
      const body = await readRequestBody(req, {
        maxBytes: MAX_WEBHOOK_BYTES,
        timeoutMs: WEBHOOK_BODY_TIMEOUT_MS,
      });
      answer = await inFlight.track(() =>
        receiveWebhook(
          dispatch,
          settings.webhookSecret,
          {
            id: header(req, "x-github-delivery"),
            name: header(req, "x-github-event"),
            signature: header(req, "x-hub-signature-256"),
            body,
          },
          probot.log,
        ),
      );
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      answer = { status: error.status, body: { error: error.message } };
      if (error.status === 413) {
        // Closing at once would reset the connection under a sender still writing, before it
        // reads the 413: Node discards the rest of the body for up to 5 s, then it goes.
        res.once("finish", () => {
          const linger = setTimeout(() => req.destroy(), 5000).unref();
          req.once("end", () => clearTimeout(linger));
        });
      } else {
        res.setHeader("connection", "close");
      }
    }
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  };

  // /healthz only: metrics show repository activity, so they are never on the public port.
  const observability = healthAndMetrics({});
  const server = createServer((req, res) => {
    if (observability(req, res)) return;
    const path = req.url?.split("?")[0];
    if (req.method === "GET" && path === "/ping") {
      res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
      return;
    }
    if (req.method === "POST" && path === WEBHOOK_PATH) {
      webhook(req, res).catch((error: unknown) => {
        probot.log.error({ err: error }, "webhook endpoint failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal error" }));
      });
      return;
    }
    void middleware(req, res, () => {
      if (res.headersSent) return;
      sendFallbackNotFound(res);
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
    await scheduleTimer?.stop();
    await planner?.stop();
  };
  return {
    port,
    url: `http://${host}:${port}`,
    stop: () => (stopped ??= stop()),
    idle: async () => {
      await inFlight.idle();
      await planner?.idle();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
