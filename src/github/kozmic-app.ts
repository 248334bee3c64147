import { randomUUID } from "node:crypto";
import type { ApplicationFunction, ApplicationFunctionOptions } from "probot";
import { createPageActions } from "./page-actions.js";
import type { AppDeps } from "./app-deps.js";
import type { PlanMessage } from "../core/plan-message.js";
import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";

/** Probot's HTTP handler: `(req, res) => boolean | Promise<boolean>`, true when it answered. */
export type Handler = Parameters<ApplicationFunctionOptions["addHandler"]>[0];

export interface KozmicAppDeps {
  /** Where deliveries go for the planner; the webhook handlers never call GitHub. */
  planQueue: Queue<PlanMessage>;
  store: Store;
  /** Extra HTTP handlers (log pages), tried after the webhook endpoint. */
  handlers?: Handler[];
  /** Extra HTTP handlers that need the app itself: its GitHub auth, its re-run and cancel. */
  handlersFor?: (app: AppTools) => Handler[];
  newId?: () => string;
  /** Epoch milliseconds. */
  now?: () => number;
}

export interface AppTools {
  /** Probot's `app.auth`: an Octokit as the app (no id) or as one installation. */
  auth: ProbotAuth;
  /** Re-run and cancel as GitHub's buttons do them, for the log pages. */
  actions: ReturnType<typeof createPageActions>;
}
type ProbotAuth = Parameters<ApplicationFunction>[0]["auth"];

/** What the webhook handlers and page actions get, with the defaults filled in. */
export function appDepsOf(deps: KozmicAppDeps): AppDeps {
  return {
    planQueue: deps.planQueue,
    store: deps.store,
    newId: deps.newId ?? randomUUID,
    now: deps.now ?? Date.now,
  };
}

/**
 * The Probot app function: the HTTP handlers (log pages) with the app's auth and actions.
 * Webhooks do not go through Probot: the endpoint verifies them and dispatches them to
 * Kozmic's handlers itself (receive-webhook.ts, dispatch-webhook.ts).
 */
export function kozmicApp(deps: KozmicAppDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    const appDeps = appDepsOf(deps);
    for (const handler of deps.handlers ?? []) addHandler(handler);
    const auth: ProbotAuth = (installationId) => app.auth(installationId);
    const tools = { auth, actions: createPageActions(appDeps) };
    for (const handler of deps.handlersFor?.(tools) ?? []) addHandler(handler);
  };
}
