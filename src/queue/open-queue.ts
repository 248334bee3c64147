import { readStorageSettings } from "../store/read-storage-settings.js";
import { openEmbeddedQueue } from "./embedded-queue.js";
import type { InspectableQueue, QueueLog } from "./port.js";
import { openSqsQueue } from "./sqs-queue.js";
import { SQSClient } from "@aws-sdk/client-sqs";

/** SQS when KOZMIC_QUEUE_URL is set, else the embedded queue under KOZMIC_DATA_DIR. */
export function openQueue(env: NodeJS.ProcessEnv = process.env, log?: QueueLog): InspectableQueue {
  const { queue } = readStorageSettings(env);
  if (queue.kind === "sqs") {
    return openSqsQueue({
      client: new SQSClient({ region: queue.region, endpoint: queue.endpoint }),
      ownsClient: true,
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      log,
    });
  }
  return openEmbeddedQueue({ dataDir: queue.dataDir, maxReceives: queue.maxReceives, log });
}
