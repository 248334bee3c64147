import type { JobMessage } from "../core/job-message.js";
import type { PlanMessage } from "../core/plan-message.js";
import type { StorageSettings } from "../settings/storage-settings.js";
import { openEmbeddedQueue } from "./embedded-queue.js";
import { JOB_MESSAGES, PLAN_MESSAGES, type MessageKind } from "./parse-message-body.js";
import type { InspectableQueue, QueueLog } from "./port.js";
import { sqsQueueFrom } from "./sqs-queue.js";

/** The job queue: SQS when KOZMIC_QUEUE_URL is set, else the embedded queue under KOZMIC_DATA_DIR. */
export function jobQueueFrom(
  storage: StorageSettings,
  log?: QueueLog,
): InspectableQueue<JobMessage> {
  return openKind(storage.queue, JOB_MESSAGES, "jobs", log);
}

/**
 * The planning queue: `KOZMIC_PLAN_QUEUE_URL` (default: the job queue's URL + `-plans`) on
 * SQS, else its own queue in the embedded database.
 */
export function planQueueFrom(
  storage: StorageSettings,
  log?: QueueLog,
): InspectableQueue<PlanMessage> {
  return openKind(storage.planQueue, PLAN_MESSAGES, "plans", log);
}

function openKind<M>(
  settings: StorageSettings["queue"],
  kind: MessageKind<M>,
  name: string,
  log: QueueLog | undefined,
): InspectableQueue<M> {
  if (settings.kind === "sqs") return sqsQueueFrom(settings, kind, log);
  return openEmbeddedQueue({
    dataDir: settings.dataDir,
    name,
    maxReceives: settings.maxReceives,
    kind,
    log,
  });
}
