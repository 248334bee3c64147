import { randomUUID } from "node:crypto";
import type { ApplicationFunction, ApplicationFunctionOptions } from "probot";
import { createPageActions } from "./github/page-actions.js";
import { registerHandlers } from "./github/register-handlers.js";
import type { Queue } from "./queue/port.js";
import type { Store } from "./store/port.js";
import type { WorkInFlight } from "./github/work-in-flight.js";

/** Probot's HTTP handler: `(req, res) => boolean | Promise<boolean>`, true when it answered. */
export type Handler = Parameters<ApplicationFunctionOptions["addHandler"]>[0];

export interface KozmicAppDeps {
  queue: Queue;
  store: Store;
  /** Base URL of the log pages; a job's "Details" link is `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  /** Extra HTTP handlers (log pages), tried after the webhook endpoint. */
  handlers?: Handler[];
  /** Extra HTTP handlers that need the app itself: its GitHub auth, its re-run and cancel. */
  handlersFor?: (app: AppTools) => Handler[];
  newId?: () => string;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Counts the webhook handlers running (see work-in-flight.ts). */
  inFlight?: WorkInFlight;
}

export interface AppTools {
  /** Probot's `app.auth`: an Octokit as the app (no id) or as one installation. */
  auth: ProbotAuth;
  /** Re-run and cancel as GitHub's buttons do them, for the log pages. */
  actions: ReturnType<typeof createPageActions>;
}
type ProbotAuth = Parameters<ApplicationFunction>[0]["auth"];

/** The Probot app function: Kozmic's webhook handlers and HTTP handlers, no logic. */
export function kozmicApp(deps: KozmicAppDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    const appDeps = {
      queue: deps.queue,
      store: deps.store,
      publicUrl: deps.publicUrl,
      newId: deps.newId ?? randomUUID,
      now: deps.now ?? Date.now,
      ...(deps.inFlight ? { inFlight: deps.inFlight } : {}),
    };
    registerHandlers(app, appDeps);
    for (const handler of deps.handlers ?? []) addHandler(handler);
    const auth: ProbotAuth = (installationId) => app.auth(installationId);
    const tools = { auth, actions: createPageActions(appDeps, auth, app.log) };
    for (const handler of deps.handlersFor?.(tools) ?? []) addHandler(handler);
  };
}
