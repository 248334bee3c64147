import { SQSClient } from "@aws-sdk/client-sqs";
import { InfrastructureError } from "../core/errors.js";
import { SettingsError } from "../settings/settings-error.js";
import type { QueueSettings, SqsSettings } from "../settings/storage-settings.js";
import { redriveMismatch } from "./redrive-mismatch.js";
import { isMissingQueue, queueAttributes } from "./set-up-sqs-queue.js";

/**
 * Refuses to run jobs from an SQS queue whose redrive policy does not fit
 * KOZMIC_MAX_RECEIVES: a SettingsError saying what to change, or an InfrastructureError
 * when the policy cannot be read. The embedded queue counts receives with the setting
 * itself, so there is nothing to compare.
 */
export async function checkJobQueueRedrive(
  queue: QueueSettings,
  client?: SQSClient,
): Promise<void> {
  if (queue.kind !== "sqs") return;
  const sqs = client ?? new SQSClient({ region: queue.region, endpoint: queue.endpoint });
  try {
    const policy = await readRedrivePolicy(sqs, queue);
    const problem = redriveMismatch(queue.maxReceives, queue.queueUrl, policy);
    if (problem) throw new SettingsError(problem);
  } finally {
    if (!client) sqs.destroy();
  }
}

async function readRedrivePolicy(
  client: SQSClient,
  queue: SqsSettings,
): Promise<string | undefined> {
  try {
    return (await queueAttributes(client, queue.queueUrl, ["RedrivePolicy"])).RedrivePolicy;
  } catch (error) {
    const name = (error as Error).name;
    if (isMissingQueue(error)) {
      throw new SettingsError(
        `KOZMIC_QUEUE_URL must name an existing SQS queue; ${queue.queueUrl} does not exist ` +
          "(ensureSqsQueues in src/queue/sqs-queue.ts creates it with its dead-letter queue)",
      );
    }
    if (name === "AccessDenied" || name === "AccessDeniedException") {
      throw new SettingsError(
        `KOZMIC_QUEUE_URL: this process may not read the attributes of ${queue.queueUrl}; ` +
          "allow it sqs:GetQueueAttributes, which a runner needs to check KOZMIC_MAX_RECEIVES " +
          "against the queue's redrive policy",
      );
    }
    throw new InfrastructureError(
      `cannot read the redrive policy of the SQS job queue ${queue.queueUrl} to check ` +
        `KOZMIC_MAX_RECEIVES against it: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
