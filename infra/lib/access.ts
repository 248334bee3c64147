import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";

/**
 * The AWS actions Kozmic's code calls, named once, each list with where the calls are made.
 * A batch call is authorised by its single action (SendMessageBatch by sqs:SendMessage), and
 * a DynamoDB transaction by the actions of its items (TransactWriteItems of Puts by
 * dynamodb:PutItem), so neither appears here.
 */

/** src/store/dynamodb-table.ts: GetCommand, PutCommand (also in TransactWriteCommand), UpdateCommand (expiry), QueryCommand, DeleteCommand. */
export const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:Query",
  "dynamodb:DeleteItem",
];

/** src/queue/sqs-queue.ts `send` (and moving a malformed body to the dead-letter queue). */
export const SEND = ["sqs:SendMessage"];

/** src/queue/sqs-queue.ts `receive`, `delete`, `extendVisibility`. */
export const CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"];

/**
 * src/queue/check-job-queue-redrive.ts: the runner reads the job queue's RedrivePolicy at
 * start; src/doctor/check-sqs-queues.ts reads both queues'.
 */
export const READ_REDRIVE = ["sqs:GetQueueAttributes"];

/**
 * A Lambda SQS event source reads the queue's attributes and receives and deletes for the
 * function (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html); the planner itself
 * changes visibility for its backoff (src/planner/settle-plan-message.ts).
 */
export const EVENT_SOURCE = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ChangeMessageVisibility",
];

/** The Lambda runtime writes the function's logs to its log group. */
export const WRITE_LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"];

/** Reading the one secret with the App's key and the other secrets. */
export const READ_SECRET = ["secretsmanager:GetSecretValue"];

/**
 * runner/cache/registry-credentials.ts: GetAuthorizationToken, which AWS authorises on
 * Resource "*" only (it names no repository).
 */
export const ECR_TOKEN = ["ecr:GetAuthorizationToken"];

/** What Docker calls on the fleet cache's repository to pull an image (runner/cache/fleet-cache.ts). */
export const ECR_PULL = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:GetDownloadUrlForLayer",
];

/** What Docker calls to push one. */
export const ECR_PUSH = [
  "ecr:InitiateLayerUpload",
  "ecr:UploadLayerPart",
  "ecr:CompleteLayerUpload",
  "ecr:PutImage",
];

/**
 * src/secrets/kms-key-wrapper.ts: Decrypt unwraps a repository's data key (reading and
 * setting secrets), Encrypt wraps a new one (setting the first secret of a repository,
 * `kozmic secrets rotate-key`).
 */
export const KMS_UNWRAP = ["kms:Decrypt"];
export const KMS_WRAP = ["kms:Encrypt"];

/** The runner hosts' boot script: `aws s3 cp` of the runner artifact (infra/lib/runner-user-data.ts). */
export const READ_ARTIFACT = ["s3:GetObject"];

/**
 * Jobs' artifacts in their bucket (src/store/s3-artifacts.ts): the log pages list a job's
 * (ListObjectsV2, authorised by s3:ListBucket) and read one (GetObject); the runner puts
 * each file in one PutObject (no multipart upload, no delete: the lifecycle rule expires them).
 */
export const LIST_JOB_ARTIFACTS = ["s3:ListBucket"];
export const GET_JOB_ARTIFACTS = ["s3:GetObject"];
export const PUT_JOB_ARTIFACTS = ["s3:PutObject"];

/** The CloudWatch agent on a runner host, into log groups the stack made. */
export const SHIP_LOGS = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"];

/** A runner host whose boot failed marks itself unhealthy (`aws autoscaling set-instance-health`). */
export const REPORT_HEALTH = ["autoscaling:SetInstanceHealth"];

/**
 * cdk-nag's AwsSolutions-IAM5 findings a role may have, each with why: the table's indexes
 * (a GSI's ARN is the table's plus /index/<name>; the store queries both).
 */
export function acknowledgeTableIndexes(role: Construct, table: dynamodb.Table): void {
  const logicalId = Stack.of(table).resolve(
    (table.node.defaultChild as CfnElement).logicalId,
  ) as string;
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
    reason:
      "The store queries the table's two indexes (gsi1, gsi2), whose ARNs are the table's with /index/<name>",
  });
}

export function allow(actions: string[], resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ effect: iam.Effect.ALLOW, actions, resources });
}

/**
 * runner/host/lifecycle-action.ts: a drained host lets its group terminate it, and a busy
 * host keeps itself out of scale-in (runner/host/scale-in-protection.ts).
 */
export const HOST_GROUP_ACTIONS = [
  "autoscaling:CompleteLifecycleAction",
  "autoscaling:SetInstanceProtection",
];

/**
 * src/scaler/scale-fleet.ts reads the group and its launches (spot shortages):
 * DescribeAutoScalingGroups and DescribeScalingActivities, which AWS authorises on
 * Resource "*" only (they support no resource-level permission).
 */
export const DESCRIBE_GROUPS = [
  "autoscaling:DescribeAutoScalingGroups",
  "autoscaling:DescribeScalingActivities",
];

/**
 * src/scaler/scale-fleet.ts sets the group's capacity, keeps its tags, and switches the
 * on-demand share (UpdateAutoScalingGroup) while spot is short. It cannot give the group
 * another launch template: that asks for ec2:RunInstances and iam:PassRole, which it lacks.
 */
export const SCALE_GROUP = [
  "autoscaling:SetDesiredCapacity",
  "autoscaling:CreateOrUpdateTags",
  "autoscaling:DeleteTags",
  "autoscaling:UpdateAutoScalingGroup",
];

/** src/scaler/scale-fleet.ts reads the job queue's depth. */
export const READ_DEPTH = ["sqs:GetQueueAttributes"];
