import { randomUUID } from "node:crypto";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Probot } from "probot";
import { WEBHOOK_PATH } from "../http/lambda-http.js";
import { notFound } from "../http/not-found.js";
import type { AppDeps } from "./app-deps.js";
import { createWebhookDispatcher } from "./dispatch-webhook.js";
import { createPageActions } from "./page-actions.js";
import { MAX_WEBHOOK_BYTES, receiveWebhook, WEBHOOK_BODY_TIMEOUT_MS } from "./receive-webhook.js";

/** The handlers' deps (the id and clock default to random UUIDs and the system's), and the pages. */
export interface KozmicAppDeps
  extends Pick<AppDeps, "planQueue" | "store">, Partial<Pick<AppDeps, "newId" | "now">> {
  /** The log pages, made with the app's auth and actions: every path not the app's own. */
  pagesFor?: (app: AppTools) => Pages;
}

/** The log pages' Hono app (createWebApp), or any app answering the other paths. */
export interface Pages {
  app: { fetch(request: Request, env?: unknown): Response | Promise<Response> };
  /** Ends the open live tails (on shutdown, before waiting for the requests in flight). */
  close(): void;
}

export interface AppTools {
  /** Probot's `auth`: an Octokit as the app (no id) or as one installation. */
  auth: Probot["auth"];
  /** Re-run and cancel as GitHub's buttons do them, for the log pages. */
  actions: ReturnType<typeof createPageActions>;
}

export interface KozmicHttpApp {
  app: Hono;
  /** Ends the pages' open live tails. */
  close(): void;
  /** Resolves once no webhook delivery is being received (verified, recorded, enqueued). */
  idle(): Promise<void>;
}

/**
 * The app's one HTTP app, served on Node (start-kozmic-server.ts) and in AWS Lambda
 * (lambda.ts) alike: POST /api/github/webhooks (verified and handed to the planner by
 * receive-webhook.ts, not by Probot), `GET /ping`, `GET /healthz`, every other path to the
 * log pages, else the fixed 404. /metrics is never here: it shows repository activity and
 * has a listener of its own (metrics-server.ts). `probot` must be ready: its log is read.
 */
export function createKozmicHttpApp(
  probot: Probot,
  secret: string,
  deps: KozmicAppDeps,
): KozmicHttpApp {
  const appDeps: AppDeps = {
    planQueue: deps.planQueue,
    store: deps.store,
    newId: deps.newId ?? randomUUID,
    now: deps.now ?? Date.now,
  };
  const dispatch = createWebhookDispatcher(appDeps);
  const auth: Probot["auth"] = (installationId) => probot.auth(installationId);
  const pages = deps.pagesFor?.({ auth, actions: createPageActions(appDeps) });
  const receiving = new Set<Promise<unknown>>();
  const app = new Hono();
  app.post(WEBHOOK_PATH, async (c) => {
    const delivery = receiveWebhook(
      dispatch,
      secret,
      {
        id: c.req.header("x-github-delivery"),
        name: c.req.header("x-github-event"),
        signature: c.req.header("x-hub-signature-256"),
        body: await readBody(c),
      },
      probot.log,
    );
    receiving.add(delivery);
    const answer = await delivery.finally(() => receiving.delete(delivery));
    return c.json(answer.body, answer.status as ContentfulStatusCode);
  });
  app.all(WEBHOOK_PATH, (c) =>
    c.json({ error: `Unknown route: ${c.req.method}; GitHub webhooks are POSTed` }, 405, {
      allow: "POST",
    }),
  );
  app.get("/ping", (c) => c.text("PONG"));
  // As the metrics listener answers it, for `kozmic doctor`'s public URL check and load balancers.
  app.get("/healthz", (c) => c.json({ status: "ok" }, 200, { "cache-control": "no-store" }));
  app.all("*", (c) => (pages ? pages.app.fetch(c.req.raw, c.env) : notFound()));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    probot.log.error({ err: error }, "webhook endpoint failed");
    return c.json({ error: "internal error" }, 500);
  });
  return {
    app,
    close: () => pages?.close(),
    async idle() {
      while (receiving.size > 0) await Promise.allSettled([...receiving]);
    },
  };
}

const limit = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: () => {
    throw new HTTPException(413, {
      message: `the body is larger than ${MAX_WEBHOOK_BYTES / 1024 / 1024} MB, GitHub's cap on webhook payloads`,
    });
  },
});

/**
 * A delivery's body: one announced or found over GitHub's cap is refused with 413 as soon as
 * that is known (an unsigned 1 GB post costs no memory), one that trickles in with 408.
 */
async function readBody(c: Context): Promise<Buffer> {
  let body = new ArrayBuffer(0);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    const message = `the body did not arrive within ${WEBHOOK_BODY_TIMEOUT_MS / 1000} s`;
    timer = setTimeout(() => reject(new HTTPException(408, { message })), WEBHOOK_BODY_TIMEOUT_MS);
  });
  try {
    await Promise.race([limit(c, async () => void (body = await c.req.arrayBuffer())), late]);
  } catch (error) {
    if (error instanceof HTTPException) throw error;
    throw new HTTPException(400, { message: `reading the body failed: ${String(error)}` });
  } finally {
    clearTimeout(timer);
  }
  return Buffer.from(body);
}
