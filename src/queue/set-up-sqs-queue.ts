import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { maxReceiveCount } from "./redrive-mismatch.js";

/** What `kozmic setup` found or did for one queue and its dead-letter queue. */
export interface QueueSetup {
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** One line per change made, empty when everything was already in place. */
  changes: string[];
  /** A redrive policy that differs and was left alone (no `fix`). */
  problem?: string;
}

/**
 * Makes sure `<name>-dead-letters` and `<name>` exist, the second with a redrive policy moving
 * a message to the first after `maxReceives` receives. An existing queue with another redrive
 * policy is reported and left as it is, unless `fix` is set: then its policy is replaced.
 */
export async function setUpSqsQueue(
  client: SQSClient,
  name: string,
  maxReceives: number,
  options: { fix: boolean; setting: string },
): Promise<QueueSetup> {
  const changes: string[] = [];
  const deadName = `${name}-dead-letters`;
  let deadLetterQueueUrl = await findQueueUrl(client, deadName);
  if (!deadLetterQueueUrl) {
    deadLetterQueueUrl = (await client.send(new CreateQueueCommand({ QueueName: deadName })))
      .QueueUrl!;
    changes.push(`created SQS queue ${deadName}`);
  }
  const deadArn = (await queueAttributes(client, deadLetterQueueUrl, ["QueueArn"])).QueueArn!;
  const policy = JSON.stringify({
    deadLetterTargetArn: deadArn,
    maxReceiveCount: String(maxReceives),
  });
  const redrive = `dead-letters to ${deadName} after ${maxReceives} receives`;

  let queueUrl = await findQueueUrl(client, name);
  if (!queueUrl) {
    queueUrl = (
      await client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { RedrivePolicy: policy } }),
      )
    ).QueueUrl!;
    changes.push(`created SQS queue ${name} (${redrive})`);
    return { queueUrl, deadLetterQueueUrl, changes };
  }
  const current = (await queueAttributes(client, queueUrl, ["RedrivePolicy"])).RedrivePolicy;
  const difference = redriveDifference(current, deadArn, maxReceives);
  if (!difference) return { queueUrl, deadLetterQueueUrl, changes };
  if (!options.fix) {
    return {
      queueUrl,
      deadLetterQueueUrl,
      changes,
      problem:
        `SQS queue ${name} exists but ${difference}; Kozmic expects it to be ${redrive} ` +
        `(${options.setting}). Left unchanged: run kozmic setup --fix to set its redrive policy, ` +
        `or change it yourself`,
    };
  }
  await client.send(
    new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { RedrivePolicy: policy } }),
  );
  changes.push(`changed the redrive policy of SQS queue ${name}: it ${redrive} now`);
  return { queueUrl, deadLetterQueueUrl, changes };
}

/** How the queue's redrive policy differs from the one wanted, or undefined when it does not. */
function redriveDifference(
  current: string | undefined,
  deadArn: string,
  maxReceives: number,
): string | undefined {
  if (current === undefined) return "has no redrive policy";
  const count = maxReceiveCount(current);
  if (count !== maxReceives) {
    return count === undefined
      ? `its redrive policy has no maxReceiveCount (${current})`
      : `it dead-letters after ${count} receives`;
  }
  // maxReceiveCount found the policy JSON.
  const target = (JSON.parse(current) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  return target === deadArn ? undefined : `it dead-letters to ${String(target)}`;
}

async function findQueueUrl(client: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (isMissingQueue(error)) return undefined;
    throw error;
  }
}

/** SQS's answer for a queue that does not exist, by either of its names. */
export function isMissingQueue(error: unknown): boolean {
  const name = (error as Error).name;
  return name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue";
}

/** The queue's attributes of those `names` (absent ones undefined). */
export async function queueAttributes(
  client: SQSClient,
  queueUrl: string,
  names: ("QueueArn" | "RedrivePolicy")[],
): Promise<Record<string, string | undefined>> {
  const out = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }),
  );
  return out.Attributes ?? {};
}
