import type { Context, Logger } from "probot";
import { InfrastructureError } from "../core/errors.js";
import type { PlanMessage } from "../core/plan-message.js";
import { shouldSkipCi } from "../core/skip-ci.js";
import { clip, enqueuePlan, type AppDeps, type EnqueueOutcome } from "./app-deps.js";
import { checkPayload, MalformedPayloadError } from "./check-payload.js";
import { handleInstallation, handleInstallationRepositories } from "./handle-installation.js";

/** A verified delivery: its id, event name and parsed payload. */
export interface WebhookEvent {
  id: string;
  name: string;
  payload: object;
}

/** Handles one verified delivery; throws MalformedPayloadError (400) or another error (500). */
export type WebhookDispatcher = (event: WebhookEvent, log: Logger) => Promise<void>;

/** The pull request actions that bring a new head commit to build. */
const PULL_REQUEST_ACTIONS = [
  "pull_request.opened",
  "pull_request.synchronize",
  "pull_request.reopened",
] as const;

type Task = PlanMessage["task"];
type Ignored = { outcome: "ignored"; why: string };
/**
 * A handler reads a delivery's payload: it returns the task to hand the planner, or says
 * why there is none, or (the installation events) does its own work and says what.
 */
type Handler = (payload: never, deps: AppDeps) => Task | Ignored | Promise<object>;

const ROUTES: Record<string, Handler> = {
  push: pushTask,
  ...Object.fromEntries(PULL_REQUEST_ACTIONS.map((event) => [event, pullRequestTask])),
  // GitHub's "Re-run" on one check run; the planner finds its job and build.
  "check_run.rerequested": ({
    check_run: run,
    sender,
  }: Context<"check_run.rerequested">["payload"]) => ({
    kind: "rerun-check-run",
    externalId: run.external_id || null,
    sha: run.head_sha,
    headBranch: run.check_suite?.head_branch ?? null,
    actor: clip(sender?.login ?? "GitHub", 200),
  }),
  // GitHub's "Re-run all checks": every hook of the commit again.
  "check_suite.rerequested": ({
    check_suite,
    sender,
  }: Context<"check_suite.rerequested">["payload"]) => ({
    kind: "rerun-commit",
    sha: check_suite.head_sha,
    headBranch: check_suite.head_branch,
    actor: clip(sender?.login ?? "GitHub", 200),
  }),
  "check_run.requested_action": cancelTask,
  installation: handleInstallation,
  installation_repositories: handleInstallationRepositories,
};

/**
 * A push to a branch or tag builds its head commit (a tag only the hooks whose `tags:` match);
 * deletions build nothing.
 */
function pushTask(payload: Context<"push">["payload"]): Task | Ignored {
  // A tag push runs only the hooks that list `tags:`, which the planner reads at the commit.
  if (!payload.ref.startsWith("refs/heads/") && !payload.ref.startsWith("refs/tags/")) {
    return { outcome: "ignored", why: "not a branch or tag" };
  }
  if (payload.deleted || !payload.head_commit) {
    return { outcome: "ignored", why: "branch or tag deleted" };
  }
  if (shouldSkipCi([payload.head_commit.message])) return { outcome: "ignored", why: "skip-ci" };
  return {
    kind: "build",
    event: "push",
    sha: payload.after,
    ref: payload.ref,
    ...(/^[0-9a-f]{40}$/.test(payload.before) ? { before: payload.before } : {}),
    trigger: clip(payload.pusher.name ?? payload.sender?.login ?? "push"),
    ...(payload.repository.default_branch
      ? { defaultBranch: clip(payload.repository.default_branch, 255) }
      : {}),
  };
}

/**
 * Builds a pull request's head commit. A head in another repository (a fork) makes the build
 * untrusted (planJobs decides from the head repository's full name).
 */
function pullRequestTask(
  payload: Context<(typeof PULL_REQUEST_ACTIONS)[number]>["payload"],
): Task | Ignored {
  const pull = payload.pull_request;
  if (shouldSkipCi([pull.title])) return { outcome: "ignored", why: "skip-ci" };
  const sameRepository = pull.head.repo?.id === payload.repository.id;
  return {
    kind: "build",
    event: "pull_request",
    sha: pull.head.sha,
    ref: `refs/pull/${pull.number}/head`,
    pullRequest: pull.number,
    baseRef: pull.base.ref,
    headRepositoryFullName: pull.head.repo?.full_name ?? null,
    headRepositoryId: pull.head.repo?.id ?? null,
    trigger: clip(payload.sender?.login ?? pull.user?.login ?? "pull request"),
    ...(sameRepository ? { alsoSupersedeLines: [`branch:${pull.head.ref}`] } : {}),
  };
}

/** The check run's "Cancel" button (action identifier `cancel`) cancels its job. */
function cancelTask(payload: Context<"check_run.requested_action">["payload"]): Task | Ignored {
  if (payload.requested_action?.identifier !== "cancel") {
    return { outcome: "ignored", why: `unknown action ${payload.requested_action?.identifier}` };
  }
  const jobId = payload.check_run.external_id;
  if (!jobId) return { outcome: "ignored", why: "the check run has no external_id" };
  return {
    kind: "cancel",
    jobId: clip(jobId, 200),
    actor: clip(payload.sender?.login ?? "someone on GitHub", 200),
  };
}

/** The part of a webhook's `repository` that planning and the Checks API need. */
interface PayloadRepository {
  id: number;
  full_name: string;
  clone_url: string;
  private: boolean;
}

/** Hands a delivery's task to the planner, for the repository and installation it came from. */
function enqueueTask(
  deps: AppDeps,
  id: string,
  payload: { installation?: { id: number } | null; repository: PayloadRepository },
  task: Task,
): Promise<EnqueueOutcome> {
  // Every event Kozmic builds on carries its installation.
  const installationId = payload.installation?.id;
  if (typeof installationId !== "number") {
    throw new Error("the delivery has no installation id; is it from the GitHub App's webhook?");
  }
  const { repository } = payload;
  return enqueuePlan(deps, id, {
    installationId,
    repository: {
      id: repository.id,
      fullName: repository.full_name,
      cloneUrl: repository.clone_url,
      private: repository.private,
    },
    task,
  });
}

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
      const handled = await handler(payload as never, deps);
      const result =
        "kind" in handled
          ? await enqueueTask(deps, id, payload as Parameters<typeof enqueueTask>[2], handled)
          : handled;
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
