import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { createWebApp, isPagePath, type WebEnv } from "./web-app.js";
import type { Handler, WebDeps } from "./web-deps.js";

export type { Handler, WebDeps, WebActions, RepositoryRef } from "./web-deps.js";

/** The log pages: a Node handler over their Hono app, which AWS Lambda serves directly. */
export type WebHandler = Handler & {
  app: Hono<WebEnv>;
  /** Ends the open live tails (call on shutdown, before waiting for requests to finish). */
  close(): void;
};

/**
 * The log pages' Hono app as a Probot server handler: it answers the pages' paths
 * (isPagePath) and returns false for every other path, leaving it to the next handler.
 */
export function createWebHandler(deps: WebDeps): WebHandler {
  const { app, close } = createWebApp(deps);
  // The process's Request and Response stay Node's own.
  const listener = getRequestListener(app.fetch, { overrideGlobalObjects: false });
  const handler: Handler = async (req, res) => {
    if (!isPagePath(req.url ?? "/")) return false;
    await listener(req, res);
    return true;
  };
  return Object.assign(handler, { app, close });
}
