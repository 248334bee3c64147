import { Probot, type Logger } from "probot";
import type { InstallationOctokitOptions } from "./checks/create-installation-octokit.js";
import { kozmicOctokit } from "./github/kozmic-octokit.js";
import { readServerSettings, type ServerSettings } from "./github/read-server-settings.js";
import {
  receiveLambdaEvent,
  type LambdaHttpEvent,
  type LambdaHttpResult,
} from "./github/receive-lambda-event.js";
import { startLoopbackPages } from "./github/forward-lambda-request.js";
import { kozmicApp, type AppTools, type Handler, type KozmicAppDeps } from "./index.js";
import { openQueue } from "./queue/open-queue.js";
import { openStore } from "./store/open-store.js";
import { createWebHandler } from "./web/create-web-handler.js";
import { createRepositoryFinder } from "./web/find-repository-with-app.js";
import { readWebSettings } from "./web/read-web-settings.js";

const WEBHOOK_PATH = "/api/github/webhooks";

export type { LambdaHttpEvent, LambdaHttpResult };

/**
 * The app as a Lambda handler over the same app function as the Node server: webhooks at
 * /api/github/webhooks, every other path to the app's HTTP handlers (the log pages). Written
 * over Probot's own `webhooks.verifyAndReceive` rather than
 * @probot/adapter-aws-lambda-serverless 4.0.3, which depends on probot 13 and would load a
 * second, older Probot beside ours.
 */
export async function createLambdaHandler(
  settings: ServerSettings,
  deps: Omit<KozmicAppDeps, "publicUrl"> & {
    octokit?: InstallationOctokitOptions;
    log?: Logger;
  },
): Promise<(event: LambdaHttpEvent) => Promise<LambdaHttpResult>> {
  const { octokit, log, ...appDeps } = deps;
  const probot = new Probot({
    appId: settings.appId,
    privateKey: settings.privateKey,
    secret: settings.webhookSecret,
    baseUrl: settings.baseUrl,
    Octokit: kozmicOctokit(octokit),
    logLevel: settings.logLevel,
    logFormat: "json",
    ...(log ? { log } : {}),
  });
  const handlers: Handler[] = [];
  await probot.load(kozmicApp({ ...appDeps, publicUrl: settings.publicUrl }), {
    cwd: process.cwd(),
    addHandler: (handler) => handlers.push(handler),
  });
  const pages = handlers.length > 0 ? await startLoopbackPages(handlers) : undefined;
  return (event) => {
    const path = event.rawPath ?? event.path;
    const webhook =
      path === undefined ||
      path === WEBHOOK_PATH ||
      event.headers?.["x-github-event"] !== undefined;
    return webhook || !pages ? receiveLambdaEvent(probot, event) : pages.forward(event);
  };
}

let ready: Promise<(event: LambdaHttpEvent) => Promise<LambdaHttpResult>> | undefined;

/** The Lambda entry point: settings and adapters from the environment, made once per container. */
export async function handler(event: LambdaHttpEvent): Promise<LambdaHttpResult> {
  ready ??= (async () => {
    const store = openStore(process.env);
    const web = readWebSettings(process.env);
    return createLambdaHandler(readServerSettings(process.env), {
      queue: openQueue(process.env),
      store,
      // Lambda buffers responses: live tails answer at once and the browser polls.
      handlersFor: (app: AppTools) => [
        createWebHandler({
          store,
          settings: web,
          actions: app.actions,
          findRepository: createRepositoryFinder(app.auth),
          liveMaxMs: 0,
        }),
      ],
    });
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return (await ready)(event);
}
