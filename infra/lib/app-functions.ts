import { Duration } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type * as kms from "aws-cdk-lib/aws-kms";
import {
  acknowledgeTableIndexes,
  allow,
  EVENT_SOURCE,
  KMS_UNWRAP,
  KMS_WRAP,
  READ_SECRET,
  SEND,
  TABLE_ACTIONS,
  WRITE_LOGS,
} from "./access.js";
import { acknowledgeArtifactObjects, artifactReadStatements } from "./artifact-bucket.js";
import type { KozmicQueues } from "./queues.js";

/** Node.js 24, the newest LTS line Lambda runs (22 works as well; the bundle targets both). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The planner's time for one batch: GitHub calls with Octokit's retries. */
export const PLANNER_TIMEOUT = Duration.seconds(60);

export interface AppFunctionsProps {
  /** Directory with the webhook and pages bundle, `index.mjs` exporting `handler`. */
  webhookCode: string;
  /** Directory with the planner bundle, `index.mjs` exporting `planHandler`. */
  plannerCode: string;
  queues: KozmicQueues;
  table: dynamodb.Table;
  /** One JSON secret: PRIVATE_KEY, WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, KOZMIC_SESSION_SECRET. */
  secret: secretsmanager.ISecret;
  /** Wraps repositories' data keys: the pages set secrets (KOZMIC_KMS_KEY_ID). */
  secretsKey: kms.IKey;
  /** Jobs' artifacts (KOZMIC_ARTIFACT_BUCKET): the job pages list them and serve downloads. */
  artifactBucket: s3.Bucket;
  /** Settings both functions get (APP_ID, GHE_HOST, ...), besides the queues, table and secret. */
  environment: Record<string, string>;
  /**
   * KOZMIC_PUBLIC_URL of the webhook function. It cannot be the function's own URL, which
   * is made after the function (a cycle): the parameter, or empty, and then the function
   * takes its URL from the requests it is sent (src/github/lambda-public-url.ts).
   */
  webhookPublicUrl: string;
  /** KOZMIC_PUBLIC_URL of the planner: the parameter when set, else the function URL. */
  plannerPublicUrl: (functionUrl: string) => string;
  webhookMemoryMiB: number;
  plannerMemoryMiB: number;
  /** Reserved concurrency: each function's ceiling, and its share kept from other functions. */
  webhookConcurrency: number;
  plannerConcurrency: number;
}

/**
 * The app on Lambda: the webhook and log pages behind a Function URL, and the planner behind
 * an SQS event source on the planning queue. Each function has its own role that may do
 * exactly what its code does (./access.ts) and its own log group.
 */
export class AppFunctions extends Construct {
  readonly webhook: lambda.Function;
  readonly planner: lambda.Function;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: AppFunctionsProps) {
    super(scope, id);
    const { queues, table, secret } = props;
    const tableResources = [table.tableArn, `${table.tableArn}/index/*`];
    const environment = {
      ...props.environment,
      KOZMIC_QUEUE_URL: queues.jobs.queue.queueUrl,
      KOZMIC_DEAD_LETTER_QUEUE_URL: queues.jobs.deadLetters.queueUrl,
      KOZMIC_PLAN_QUEUE_URL: queues.plans.queue.queueUrl,
      KOZMIC_TABLE: table.tableName,
      // Read at cold start; the function's environment holds no secret.
      KOZMIC_SECRET_ARN: secret.secretArn,
    };

    const webhookLogs = this.logGroup("WebhookLogs");
    this.webhook = new lambda.Function(this, "Webhook", {
      description: "Kozmic: GitHub webhooks and the log pages",
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.handler",
      code: lambda.Code.fromAsset(props.webhookCode),
      memorySize: props.webhookMemoryMiB,
      reservedConcurrentExecutions: props.webhookConcurrency,
      // GitHub gives up on a delivery after 10 s; the pages answer well within that.
      timeout: Duration.seconds(30),
      logGroup: webhookLogs,
      role: this.role("WebhookRole", "the Kozmic webhook function", table, [
        allow(WRITE_LOGS, [webhookLogs.logGroupArn]),
        // Deliveries go to the planner; the webhook function never sends a job itself.
        allow(SEND, [queues.plans.queue.queueArn]),
        allow(TABLE_ACTIONS, tableResources),
        allow(READ_SECRET, [secret.secretArn]),
        allow([...KMS_UNWRAP, ...KMS_WRAP], [props.secretsKey.keyArn]),
        // The job pages: a job's artifacts listed, and one downloaded.
        ...artifactReadStatements(props.artifactBucket),
      ]),
      environment: {
        ...environment,
        KOZMIC_PUBLIC_URL: props.webhookPublicUrl,
        KOZMIC_KMS_KEY_ID: props.secretsKey.keyArn,
        KOZMIC_ARTIFACT_BUCKET: props.artifactBucket.bucketName,
      },
    });
    acknowledgeArtifactObjects(this.webhook.role!, props.artifactBucket);
    // No IAM auth: every request is checked by the app itself, webhooks by their signature
    // (WEBHOOK_SECRET) and private pages by the session cookie.
    this.url = this.webhook.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const plannerLogs = this.logGroup("PlannerLogs");
    this.planner = new lambda.Function(this, "Planner", {
      description: "Kozmic: plans deliveries from the planning queue (check runs, jobs)",
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.planHandler",
      code: lambda.Code.fromAsset(props.plannerCode),
      memorySize: props.plannerMemoryMiB,
      reservedConcurrentExecutions: props.plannerConcurrency,
      timeout: PLANNER_TIMEOUT,
      logGroup: plannerLogs,
      role: this.role("PlannerRole", "the Kozmic planner function", table, [
        allow(WRITE_LOGS, [plannerLogs.logGroupArn]),
        allow(EVENT_SOURCE, [queues.plans.queue.queueArn]),
        // Jobs; and the schedules' ticks, which go to the planning queue (./schedule-timer.ts).
        allow(SEND, [queues.jobs.queue.queueArn, queues.plans.queue.queueArn]),
        allow(TABLE_ACTIONS, tableResources),
        allow(READ_SECRET, [secret.secretArn]),
      ]),
      environment: {
        ...environment,
        KOZMIC_PUBLIC_URL: props.plannerPublicUrl(this.url.url),
      },
    });
    // The role's policy is part of the role, which the function already depends on, so the
    // mapping is only made once the planner may receive from the queue.
    new lambda.EventSourceMapping(this, "PlanQueueSource", {
      target: this.planner,
      eventSourceArn: queues.plans.queue.queueArn,
      batchSize: 10,
      // A record GitHub failed for is reported alone and comes back after its backoff.
      reportBatchItemFailures: true,
    });
  }

  private logGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_MONTH });
  }

  private role(
    id: string,
    what: string,
    table: dynamodb.Table,
    statements: iam.PolicyStatement[],
  ): iam.Role {
    const role = new iam.Role(this, id, {
      description: `Runs ${what}`,
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      inlinePolicies: { Kozmic: new iam.PolicyDocument({ statements }) },
    });
    acknowledgeTableIndexes(role, table);
    return role;
  }
}
