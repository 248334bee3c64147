import { parseCommandArgs } from "../parse-command-args.js";

const USAGE = `usage: kozmic setup [--name NAME] [--job-queue NAME] [--plan-queue NAME] [--table NAME] [--fix]

Creates on AWS what Kozmic needs without the CDK stack, and prints the settings to use:
  SQS queue <name>-jobs  with <name>-jobs-dead-letters  (maxReceiveCount = KOZMIC_MAX_RECEIVES, 5)
  SQS queue <name>-plans with <name>-plans-dead-letters (maxReceiveCount = 40)
  DynamoDB table <name> (KOZMIC_TABLE when set), on-demand, TTL on expiresAt
--name defaults to "kozmic". Safe to run again: what exists is left as it is. A queue whose
redrive policy differs is reported, not changed, unless --fix is given.
Status goes to stderr, the settings to stdout: kozmic setup >> kozmic.env
Environment: AWS_REGION (required), AWS credentials as the AWS SDK reads them,
AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_DYNAMODB (ElasticMQ, DynamoDB Local), KOZMIC_MAX_RECEIVES.`;

const NAME = /^[A-Za-z0-9_-]{1,60}$/;
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * `kozmic setup`: the job and planning queues with their dead-letter queues, and the table.
 * Exit 0 when everything is in place, 1 when something exists in a form Kozmic cannot use
 * (and was left alone), 2 for bad arguments or settings, 3 when AWS cannot be reached.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("setup", USAGE, args, {
    name: { type: "string" },
    "job-queue": { type: "string" },
    "plan-queue": { type: "string" },
    table: { type: "string" },
    fix: { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const name = values.name ?? "kozmic";
  const names = {
    jobs: values["job-queue"] ?? `${name}-jobs`,
    plans: values["plan-queue"] ?? `${name}-plans`,
    table: values.table ?? (process.env.KOZMIC_TABLE?.trim() || name),
  };
  const bad = [names.jobs, names.plans]
    .filter((queue) => !NAME.test(queue))
    .map(
      (queue) =>
        `"${queue}" is not a usable SQS queue name (1-60 of A-Z a-z 0-9 _ -, leaving room for "-dead-letters")`,
    );
  if (!TABLE.test(names.table))
    bad.push(`"${names.table}" is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`);
  if (bad.length > 0) {
    for (const line of bad) console.error(`kozmic setup: ${line}`);
    return 2;
  }

  const [
    { SQSClient },
    { DynamoDBClient },
    { setUpSqsQueue },
    { setUpDynamoTable },
    settings,
    shared,
  ] = await Promise.all([
    import("@aws-sdk/client-sqs"),
    import("@aws-sdk/client-dynamodb"),
    import("../../queue/set-up-sqs-queue.js"),
    import("../../store/set-up-dynamo-table.js"),
    import("../../settings/storage-settings.js"),
    import("../../settings/shared-variables.js"),
  ]);
  const env = process.env;
  const region = env.AWS_REGION?.trim();
  const receives = shared.KOZMIC_MAX_RECEIVES.safeParse(
    env.KOZMIC_MAX_RECEIVES?.trim() || undefined,
  );
  if (!receives.success) {
    console.error(`kozmic setup: ${receives.error.issues[0]!.message}`);
    return 2;
  }
  const maxReceives = receives.data;
  if (!region) {
    console.error(
      "kozmic setup: AWS_REGION is required: the region to create the queues and table in",
    );
    return 2;
  }
  const sqs = new SQSClient({ region, endpoint: env.AWS_ENDPOINT_URL_SQS?.trim() || undefined });
  const dynamo = new DynamoDBClient({
    region,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB?.trim() || undefined,
  });
  try {
    const fix = values.fix ?? false;
    const jobs = await setUpSqsQueue(sqs, names.jobs, maxReceives, {
      fix,
      setting: `KOZMIC_MAX_RECEIVES=${maxReceives}`,
    });
    const plans = await setUpSqsQueue(sqs, names.plans, settings.PLAN_MAX_RECEIVES, {
      fix,
      setting: `Kozmic's planning queues always allow ${settings.PLAN_MAX_RECEIVES} receives`,
    });
    const table = await setUpDynamoTable(dynamo, names.table);
    const changes = [...jobs.changes, ...plans.changes, ...table.changes];
    const problems = [jobs.problem, plans.problem, table.problem].filter((p) => p !== undefined);
    for (const line of changes) console.error(`kozmic setup: ${line}`);
    for (const line of problems) console.error(`kozmic setup: problem: ${line}`);
    if (changes.length === 0 && problems.length === 0) {
      console.error(
        "kozmic setup: nothing to change: the queues and the table were already set up",
      );
    }
    console.log(
      [
        "# Kozmic on AWS, from kozmic setup",
        `AWS_REGION=${region}`,
        `KOZMIC_QUEUE_URL=${jobs.queueUrl}`,
        ...(jobs.deadLetterQueueUrl === `${jobs.queueUrl}-dead-letters`
          ? []
          : [`KOZMIC_DEAD_LETTER_QUEUE_URL=${jobs.deadLetterQueueUrl}`]),
        `KOZMIC_PLAN_QUEUE_URL=${plans.queueUrl}`,
        `KOZMIC_TABLE=${names.table}`,
        `KOZMIC_MAX_RECEIVES=${maxReceives}`,
      ].join("\n"),
    );
    return problems.length > 0 ? 1 : 0;
  } catch (error) {
    console.error(
      `kozmic setup: AWS refused or could not be reached (${(error as Error).name}: ` +
        `${(error as Error).message}); check AWS_REGION, the credentials and their permissions ` +
        "(sqs:CreateQueue, sqs:GetQueueUrl, sqs:GetQueueAttributes, sqs:SetQueueAttributes, " +
        "dynamodb:CreateTable, dynamodb:DescribeTable, dynamodb:DescribeTimeToLive, dynamodb:UpdateTimeToLive)",
    );
    return 3;
  } finally {
    sqs.destroy();
    dynamo.destroy();
  }
}
