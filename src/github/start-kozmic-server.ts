import type { Logger } from "probot";
import type { InstallationOctokitOptions } from "../checks/create-installation-octokit.js";
import type { JobMessage } from "../core/job-message.js";
import { listen } from "../http/listen.js";
import { createKozmicHttpApp, type KozmicAppDeps } from "./kozmic-app.js";
import type { RequestOctokit } from "../checks/checks-reporter.js";
import { startPlanner, type Planner, type PlannerOptions } from "../planner/start-planner.js";
import { startScheduleTimer } from "../planner/schedule-timer.js";
import type { Queue } from "../queue/port.js";
import { kozmicProbot } from "./kozmic-octokit.js";
import type { ServerSettings } from "../settings/server-settings.js";

export interface KozmicServer {
  port: number;
  /** `http://<host>:<port>`, as listened on. */
  url: string;
  /**
   * Ends the pages' live tails, stops taking connections and waits for the requests and
   * the planning in flight.
   */
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
}

/**
 * The app's Node server: its one HTTP app (kozmic-app.ts: webhooks, /ping, /healthz, log
 * pages) on @hono/node-server, and a planner doing the deliveries' GitHub work behind the
 * planning queue. `settings.port` 0 picks a free port.
 */
export async function startKozmicServer(
  settings: ServerSettings,
  options: KozmicServerOptions,
): Promise<KozmicServer> {
  const probot = kozmicProbot(settings, options);
  await probot.ready();
  const { octokit: _octokit, log: _log, queue, planner: plannerOptions, ...deps } = options;
  const http = createKozmicHttpApp(probot, settings.webhookSecret, deps);
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
  const scheduleTimer = planner
    ? startScheduleTimer({
        store: deps.store,
        planQueue: deps.planQueue,
        now: deps.now ?? Date.now,
        log: probot.log,
      })
    : undefined;
  const server = await listen(http.app.fetch, settings);
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    // Open live tails would hold the server's wait for the requests in flight.
    http.close();
    await server.close();
    await http.idle();
    await scheduleTimer?.stop();
    await planner?.stop();
  };
  return {
    port: server.port,
    url: server.url,
    stop: () => (stopped ??= stop()),
    idle: async () => {
      await http.idle();
      await planner?.idle();
    },
  };
}
