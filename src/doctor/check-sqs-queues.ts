import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { maxReceiveCount, redriveMismatch } from "../queue/redrive-mismatch.js";
import type { SqsSettings } from "../settings/storage-settings.js";
import { ok, problem, type CheckResult } from "./checks.js";

/**
 * The job queue (KOZMIC_QUEUE_URL) and the planning queue answer GetQueueAttributes, which
 * proves they exist and this host may read them without touching a message, and their
 * redrive policies fit the receive limits the runner and planner count with.
 */
export async function checkSqsQueues(
  client: SQSClient,
  jobs: SqsSettings,
  plans: SqsSettings,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const job = await readPolicy(client, jobs, "job queue", "KOZMIC_QUEUE_URL");
  if ("result" in job) results.push(job.result);
  else {
    const mismatch = redriveMismatch(jobs.maxReceives, jobs.queueUrl, job.policy);
    results.push(
      ok("job queue", `${jobs.queueUrl} is reachable`),
      mismatch
        ? problem("redrive policy", `${mismatch} (kozmic setup --fix sets it)`)
        : ok(
            "redrive policy",
            `the job queue dead-letters after ${jobs.maxReceives} receives, as KOZMIC_MAX_RECEIVES says`,
          ),
    );
  }
  const plan = await readPolicy(client, plans, "plan queue", "KOZMIC_PLAN_QUEUE_URL");
  if ("result" in plan) results.push(plan.result);
  else {
    const limit = plan.policy === undefined ? undefined : maxReceiveCount(plan.policy);
    results.push(
      limit === plans.maxReceives
        ? ok(
            "plan queue",
            `${plans.queueUrl} is reachable and dead-letters after ${limit} receives`,
          )
        : problem(
            "plan queue",
            `${plans.queueUrl} ${limit === undefined ? "has no redrive policy" : `dead-letters after ${limit} receives`}, ` +
              `but the planner retries a delivery ${plans.maxReceives} times: give it a redrive ` +
              `policy with maxReceiveCount ${plans.maxReceives} (kozmic setup --fix)`,
          ),
    );
  }
  return results;
}

async function readPolicy(
  client: SQSClient,
  queue: SqsSettings,
  check: string,
  variable: string,
): Promise<{ policy: string | undefined } | { result: CheckResult }> {
  try {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ["RedrivePolicy"],
      }),
    );
    return { policy: Attributes?.RedrivePolicy };
  } catch (error) {
    const name = (error as Error).name;
    let detail =
      `cannot reach SQS for ${queue.queueUrl} (${name}: ${(error as Error).message}): check ` +
      "AWS_REGION, the AWS credentials and AWS_ENDPOINT_URL_SQS";
    if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") {
      detail =
        `${variable}: no queue at ${queue.queueUrl}: run kozmic setup to create it, or set ` +
        `${variable} to the queue's URL`;
    } else if (name === "AccessDenied" || name === "AccessDeniedException") {
      detail =
        `${variable}: this host's AWS identity may not read ${queue.queueUrl}: allow it ` +
        "sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage, " +
        "sqs:ChangeMessageVisibility and sqs:SendMessage on the queue";
    }
    return { result: problem(check, detail) };
  }
}
