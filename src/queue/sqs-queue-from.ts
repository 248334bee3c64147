import { SQSClient } from "@aws-sdk/client-sqs";
import type { SqsSettings } from "../settings/storage-settings.js";
import type { MessageKind } from "./parse-message-body.js";
import type { InspectableQueue, QueueLog } from "./port.js";
import { openSqsQueue } from "./sqs-queue.js";

/**
 * An SQS queue of settings already read, with a client of its own. Apart from open-queue.ts
 * so that the Lambda bundle, which never opens the embedded queue, leaves SQLite out.
 */
export function sqsQueueFrom<M>(
  settings: SqsSettings,
  kind: MessageKind<M>,
  log?: QueueLog,
): InspectableQueue<M> {
  return openSqsQueue({
    client: new SQSClient({ region: settings.region, endpoint: settings.endpoint }),
    ownsClient: true,
    queueUrl: settings.queueUrl,
    deadLetterQueueUrl: settings.deadLetterQueueUrl,
    kind,
    log,
  });
}
