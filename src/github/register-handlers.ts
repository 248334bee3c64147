import type { Context, Probot } from "probot";
import { InfrastructureError } from "../core/errors.js";
import type { AppDeps } from "./app-deps.js";
import { checkPayload, MalformedPayloadError } from "./check-payload.js";
import { handleInstallation, handleInstallationRepositories } from "./handle-installation.js";
import { handlePullRequest, PULL_REQUEST_ACTIONS } from "./handle-pull-request.js";
import { handlePush } from "./handle-push.js";
import { handleRequestedAction } from "./handle-requested-action.js";
import { handleCheckRunRerequested, handleCheckSuiteRerequested } from "./handle-rerequested.js";

/**
 * Checks the payload (400 when malformed), runs a handler, logs what it did with the
 * delivery id, and turns a failure into an error without an HTTP status of its own, so
 * Probot answers 500 (a GitHub 404 or 403 behind it must not read as "no such webhook route").
 */
function logged<C extends Context>(
  deps: AppDeps,
  handler: (deps: AppDeps, context: C) => Promise<object>,
): (context: C) => Promise<void> {
  return (context) => deps.inFlight?.track(() => run(context)) ?? run(context);
  async function run(context: C): Promise<void> {
    const event = `${context.name}${"action" in context.payload ? `.${String(context.payload.action)}` : ""}`;
    try {
      checkPayload(context.name, context.payload);
      const result = await handler(deps, context);
      context.log.info({ deliveryId: context.id, event, ...result }, `${event} handled`);
    } catch (error) {
      if (error instanceof MalformedPayloadError) {
        context.log.warn({ deliveryId: context.id, event }, error.message);
        throw error;
      }
      const message = `delivery ${context.id} (${event}) failed: ${(error as Error).message}`;
      context.log.error({ deliveryId: context.id, event, err: error }, message);
      throw new InfrastructureError(message, { cause: error });
    }
  }
}

/** Subscribes Kozmic's webhook handlers on a Probot instance. */
export function registerHandlers(app: Probot, deps: AppDeps): void {
  app.on("push", logged(deps, handlePush));
  app.on([...PULL_REQUEST_ACTIONS], logged(deps, handlePullRequest));
  app.on("check_run.rerequested", logged(deps, handleCheckRunRerequested));
  app.on("check_suite.rerequested", logged(deps, handleCheckSuiteRerequested));
  app.on("check_run.requested_action", logged(deps, handleRequestedAction));
  app.on("installation", logged(deps, handleInstallation));
  app.on("installation_repositories", logged(deps, handleInstallationRepositories));
}
