import { randomUUID } from "node:crypto";
import type { ApplicationFunction, ApplicationFunctionOptions } from "probot";
import { registerHandlers } from "./github/register-handlers.js";
import type { Queue } from "./queue/port.js";
import type { Store } from "./store/port.js";

/** Probot's HTTP handler: `(req, res) => boolean | Promise<boolean>`, true when it answered. */
export type Handler = Parameters<ApplicationFunctionOptions["addHandler"]>[0];

export interface KozmicAppDeps {
  queue: Queue;
  store: Store;
  /** Base URL of the log pages; a job's "Details" link is `${publicUrl}/jobs/<id>`. */
  publicUrl: string;
  /** Extra HTTP handlers (log pages), tried after the webhook endpoint. */
  handlers?: Handler[];
  newId?: () => string;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** The Probot app function: Kozmic's webhook handlers and HTTP handlers, no logic. */
export function kozmicApp(deps: KozmicAppDeps): ApplicationFunction {
  return (app, { addHandler }) => {
    registerHandlers(app, {
      queue: deps.queue,
      store: deps.store,
      publicUrl: deps.publicUrl,
      newId: deps.newId ?? randomUUID,
      now: deps.now ?? Date.now,
    });
    for (const handler of deps.handlers ?? []) addHandler(handler);
  };
}
