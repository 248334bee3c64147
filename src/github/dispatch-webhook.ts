import type { Context, Logger } from "probot";
import { InfrastructureError } from "../core/errors.js";
import type { AppDeps } from "./app-deps.js";
import { checkPayload, MalformedPayloadError } from "./check-payload.js";
import { handleInstallation, handleInstallationRepositories } from "./handle-installation.js";
import { handlePullRequest, PULL_REQUEST_ACTIONS } from "./handle-pull-request.js";
import { handlePush } from "./handle-push.js";
import { handleRequestedAction } from "./handle-requested-action.js";
import { handleCheckRunRerequested, handleCheckSuiteRerequested } from "./handle-rerequested.js";

/** A verified delivery: its id, event name and parsed payload. */
export interface WebhookEvent {
  id: string;
  name: string;
  payload: object;
}

/** Handles one verified delivery; throws MalformedPayloadError (400) or another error (500). */
export type WebhookDispatcher = (event: WebhookEvent, log: Logger) => Promise<void>;

// The handlers read a delivery's id and payload, nothing of Probot's context besides.
type Handler = (deps: AppDeps, context: Context<never>) => Promise<object>;

const ROUTES: Record<string, Handler> = {
  push: handlePush as Handler,
  ...Object.fromEntries(PULL_REQUEST_ACTIONS.map((event) => [event, handlePullRequest as Handler])),
  "check_run.rerequested": handleCheckRunRerequested as Handler,
  "check_suite.rerequested": handleCheckSuiteRerequested as Handler,
  "check_run.requested_action": handleRequestedAction as Handler,
  installation: handleInstallation as Handler,
  installation_repositories: handleInstallationRepositories as Handler,
};

/**
 * Routes deliveries to Kozmic's handlers, which only record and enqueue (no GitHub call
 * and no Octokit per delivery): checks the payload (400 when malformed), runs the handler,
 * logs what it did with the delivery id, and turns a failure into an error without an
 * HTTP status of its own, so the endpoint answers 500.
 */
export function createWebhookDispatcher(deps: AppDeps): WebhookDispatcher {
  return async ({ id, name, payload }, log) => {
    const action = "action" in payload ? `.${String(payload.action)}` : "";
    const event = `${name}${action}`;
    const handler = ROUTES[event] ?? ROUTES[name];
    if (!handler) {
      log.debug({ deliveryId: id, event }, `${event} ignored: Kozmic does not act on it`);
      return;
    }
    try {
      checkPayload(name, payload);
      const context = { id, name, payload, log } as unknown as Context<never>;
      const result = await handler(deps, context);
      log.info({ deliveryId: id, event, ...result }, `${event} handled`);
    } catch (error) {
      if (error instanceof MalformedPayloadError) {
        log.warn({ deliveryId: id, event }, error.message);
        throw error;
      }
      const message = `delivery ${id} (${event}) failed: ${(error as Error).message}`;
      log.error({ deliveryId: id, event, err: error }, message);
      throw new InfrastructureError(message, { cause: error });
    }
  };
}
