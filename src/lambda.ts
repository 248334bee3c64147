import { Probot, type Logger } from "probot";
import type { InstallationOctokitOptions } from "./checks/create-installation-octokit.js";
import { kozmicOctokit } from "./github/kozmic-octokit.js";
import { readServerSettings, type ServerSettings } from "./github/read-server-settings.js";
import {
  receiveLambdaEvent,
  type LambdaHttpEvent,
  type LambdaHttpResult,
} from "./github/receive-lambda-event.js";
import { kozmicApp, type KozmicAppDeps } from "./index.js";
import { openQueue } from "./queue/open-queue.js";
import { openStore } from "./store/open-store.js";

export type { LambdaHttpEvent, LambdaHttpResult };

/**
 * The app as a Lambda handler over the same app function as the Node server. Written over
 * Probot's own `webhooks.verifyAndReceive` rather than @probot/adapter-aws-lambda-serverless
 * 4.0.3, which depends on probot 13 and would load a second, older Probot beside ours.
 */
export async function createLambdaHandler(
  settings: ServerSettings,
  deps: Omit<KozmicAppDeps, "publicUrl" | "handlers"> & {
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
  await probot.load(kozmicApp({ ...appDeps, publicUrl: settings.publicUrl }), {
    cwd: process.cwd(),
    addHandler: () => {
      throw new Error("the Lambda handler serves webhooks only; run the log pages elsewhere");
    },
  });
  return (event) => receiveLambdaEvent(probot, event);
}

let ready: Promise<(event: LambdaHttpEvent) => Promise<LambdaHttpResult>> | undefined;

/** The Lambda entry point: settings and adapters from the environment, made once per container. */
export async function handler(event: LambdaHttpEvent): Promise<LambdaHttpResult> {
  ready ??= (async () =>
    createLambdaHandler(readServerSettings(process.env), {
      queue: openQueue(process.env),
      store: openStore(process.env),
    }))().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return (await ready)(event);
}
