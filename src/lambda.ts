import type { Logger } from "probot";
import type { InstallationOctokitOptions } from "./checks/create-installation-octokit.js";
import { kozmicProbot } from "./github/kozmic-octokit.js";
import {
  lambdaHttpHandler,
  type LambdaHttpEvent,
  type LambdaHttpResult,
} from "./http/lambda-http.js";
import { withFunctionUrlAsPublicUrl } from "./github/function-url-public-url.js";
import { createKozmicHttpApp, type AppTools, type KozmicAppDeps } from "./github/kozmic-app.js";
import type { RequestOctokit } from "./checks/checks-reporter.js";
import type { JobMessage } from "./core/job-message.js";
import type { PlanMessage } from "./core/plan-message.js";
import type { RetryPolicy } from "./planner/plan-failure.js";
import { settlePlanMessage } from "./planner/settle-plan-message.js";
import { fireDueSchedules, type FiredTick } from "./planner/fire-schedules.js";
import { lineLog } from "./planner/planner-deps.js";
import { isScheduleTick, type ScheduleTickEvent } from "./core/schedules.js";
import { JOB_MESSAGES, parseMessageBody, PLAN_MESSAGES } from "./queue/parse-message-body.js";
import type { Queue } from "./queue/port.js";
import { sqsQueueFrom } from "./queue/sqs-queue.js";
import { ENTRY_POINT_GROUPS, readSettings } from "./settings/read-settings.js";
import { envWithSecret } from "./settings/secret-env.js";
import { PLAN_MAX_RECEIVES } from "./settings/storage-settings.js";
import type { ServerSettings } from "./settings/server-settings.js";
import { dynamoStoreFrom } from "./store/dynamodb-store.js";
import { createWebApp } from "./web/web-app.js";
import { createRepositoryFinder } from "./web/find-repository-with-app.js";

export type { LambdaHttpEvent, LambdaHttpResult };

/**
 * The app as a Lambda handler: the Node server's one HTTP app (webhooks, /healthz, log
 * pages) through hono/aws-lambda. Not @probot/adapter-aws-lambda-serverless 4.0.3, which
 * depends on probot 13 and would load a second, older Probot beside ours.
 */
export async function createLambdaHandler(
  settings: ServerSettings,
  deps: KozmicAppDeps & {
    octokit?: InstallationOctokitOptions;
    log?: Logger;
  },
): Promise<(event: LambdaHttpEvent) => Promise<LambdaHttpResult>> {
  const { octokit, log, ...appDeps } = deps;
  const probot = kozmicProbot(settings, { octokit, log, logFormat: "json" });
  await probot.ready();
  return lambdaHttpHandler(createKozmicHttpApp(probot, settings.webhookSecret, appDeps).app);
}

/** The part of an SQS event source's event the planner reads. */
export interface SqsEvent {
  Records: {
    messageId: string;
    receiptHandle: string;
    body: string;
    attributes?: { ApproximateReceiveCount?: string };
  }[];
}

/** The part of Lambda's context object the planner reads. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/**
 * Time the planner keeps back from its function's timeout: records still planning then are
 * reported as failed (SQS brings them back) and the answer goes out before Lambda stops.
 */
export const PLAN_DEADLINE_MARGIN_MS = 5_000;

/** Each GitHub request of the planner function is given up after this long. */
export const PLAN_REQUEST_TIMEOUT_MS = 10_000;

/** Lambda's partial batch response (the event source mapping reports ReportBatchItemFailures). */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * The planner as a Lambda handler behind an SQS event source on the planning queue, so a
 * Lambda deployment plans without any runner. A record GitHub failed for is hidden for its
 * backoff and reported as a batch item failure (SQS brings it back); the others are
 * deleted by Lambda. A malformed body is logged and dropped. Every record is bounded by the
 * function's remaining time (less PLAN_DEADLINE_MARGIN_MS): one that GitHub holds up is
 * reported failed alone, and the others of the batch are settled as they are.
 */
export function createPlanRecordsHandler(
  settings: ServerSettings,
  deps: {
    queue: Queue<JobMessage>;
    planQueue: Queue<PlanMessage>;
    store: KozmicAppDeps["store"];
    octokit?: InstallationOctokitOptions;
    log?: Logger;
    retry?: RetryPolicy;
    now?: () => number;
  },
): (event: SqsEvent, context?: LambdaContext) => Promise<SqsBatchResponse> {
  const probot = kozmicProbot(settings, {
    octokit: { requestTimeoutMs: PLAN_REQUEST_TIMEOUT_MS, ...deps.octokit },
    log: deps.log,
    logFormat: "json",
  });
  return async (event, context) => {
    // Without deps.log, Probot makes its logger as it initializes, after its constructor.
    await probot.ready();
    const deadline = context
      ? Date.now() + context.getRemainingTimeInMillis() - PLAN_DEADLINE_MARGIN_MS
      : undefined;
    const plannerDeps = {
      store: deps.store,
      jobQueue: deps.queue,
      publicUrl: settings.publicUrl,
      octokitFor: (id: number) => probot.auth(id) as Promise<RequestOctokit>,
      now: deps.now ?? Date.now,
      log: probot.log,
    };
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        const parsed = parseMessageBody(record.body, PLAN_MESSAGES);
        if (!parsed.ok) {
          probot.log.error(
            { messageId: record.messageId },
            `planning message dropped: ${parsed.error}`,
          );
          return;
        }
        const settling = settlePlanMessage(
          {
            messageId: record.messageId,
            receipt: record.receiptHandle,
            receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? "1"),
            body: parsed.message,
          },
          {
            queue: deps.planQueue,
            deps: plannerDeps,
            maxReceives: PLAN_MAX_RECEIVES,
            deleteWhenSettled: false,
            ...(deps.retry ? { retry: deps.retry } : {}),
          },
        );
        const settled = deadline === undefined ? await settling : await by(deadline, settling);
        if (settled === "late") {
          probot.log.warn(
            { messageId: record.messageId, deliveryId: parsed.message.deliveryId },
            `planning message not planned before the function's deadline; reported failed, SQS brings it back`,
          );
        }
        if (settled === "retry" || settled === "late") {
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}

/** `work`'s result, or "late" at `deadline` (ms since the epoch) if it has not settled by then. */
async function by<T>(deadline: number, work: Promise<T>): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What `make` gives, made once per container; made again after it failed (bad settings, an
 * outage) instead of the next invocation failing from a cached error.
 */
function onceUntilFailed<A extends unknown[], T>(
  make: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  let made: Promise<T> | undefined;
  return (...args) => {
    made ??= make(...args).catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
}

/**
 * The environment the entry points read their settings from: the process's, with
 * KOZMIC_SECRET_ARN's secret merged in.
 */
const lambdaEnv = onceUntilFailed(() => envWithSecret(process.env));

const httpHandler = onceUntilFailed(async (event: LambdaHttpEvent) => {
  // The awsStorage group first: what a Lambda must have is named before any other problem.
  const env = withFunctionUrlAsPublicUrl(await lambdaEnv(), event);
  const settings = readSettings(env, ["awsStorage", ...ENTRY_POINT_GROUPS.lambda]);
  const store = dynamoStoreFrom(settings.awsStorage.store);
  // Repository secrets for the pages: KMS on AWS (KOZMIC_KMS_KEY_ID), loaded only when set.
  const secrets = settings.secrets
    ? await (await import("./secrets/open-vault.js")).openVault(settings.secrets, store)
    : undefined;
  // Artifacts only from S3 (KOZMIC_ARTIFACT_BUCKET): a Lambda's disk is not where runners put them.
  const bucket = settings.artifacts.store;
  const artifacts =
    bucket.kind === "s3"
      ? (await import("./store/s3-artifacts.js")).s3ArtifactsFrom(bucket)
      : undefined;
  const server = { ...settings.app, ...settings.server };
  return createLambdaHandler(server, {
    planQueue: sqsQueueFrom(settings.awsStorage.planQueue, PLAN_MESSAGES),
    store,
    // Lambda buffers responses: live tails answer at once and the browser polls.
    pagesFor: (app: AppTools) =>
      createWebApp({
        store,
        settings: settings.web,
        actions: app.actions,
        findRepository: createRepositoryFinder(app.auth),
        liveMaxMs: 0,
        ...(secrets ? { secrets } : {}),
        ...(artifacts ? { artifacts } : {}),
      }),
  });
});

/**
 * The Lambda entry point: settings and adapters from the environment, made once per
 * container. Only SQS and DynamoDB: a Lambda keeps no disk for the embedded queue and store.
 */
export async function handler(event: LambdaHttpEvent): Promise<LambdaHttpResult> {
  return (await httpHandler(event))(event);
}

const planHandlers = onceUntilFailed(async () => {
  const env = await lambdaEnv();
  const settings = readSettings(env, ["awsStorage", ...ENTRY_POINT_GROUPS.planLambda]);
  const { queue, planQueue, store } = settings.awsStorage;
  const server = { ...settings.app, ...settings.server };
  const deps = {
    queue: sqsQueueFrom(queue, JOB_MESSAGES),
    planQueue: sqsQueueFrom(planQueue, PLAN_MESSAGES),
    store: dynamoStoreFrom(store),
  };
  return {
    plan: createPlanRecordsHandler(server, deps),
    fire: () => fireDueSchedules({ ...deps, now: Date.now, log: lineLog(console.log) }),
  };
});

/**
 * The Lambda entry point for the planning queue's SQS event source (SQS and DynamoDB only),
 * and for the stack's schedule rule, whose event every minute fires the due schedules.
 */
export async function planHandler(
  event: SqsEvent | ScheduleTickEvent,
  context?: LambdaContext,
): Promise<SqsBatchResponse | { fired: FiredTick[] }> {
  const handlers = await planHandlers();
  if (isScheduleTick(event)) return { fired: await handlers.fire() };
  return handlers.plan(event, context);
}
