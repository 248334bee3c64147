import type { PlanMessage } from "../core/plan-message.js";
import type { Queue, ReceivedMessage } from "../queue/port.js";
import { decideAfterFailure, DEFAULT_RETRY, type RetryPolicy } from "./plan-failure.js";
import { planMessage } from "./plan-message.js";
import type { PlannerDeps } from "./planner-deps.js";

export interface SettleOptions {
  queue: Queue<PlanMessage>;
  deps: PlannerDeps;
  retry?: RetryPolicy;
  /** The queue's receive limit, to say in the log when a try was the last. */
  maxReceives?: number;
  /**
   * Delete the message once planned or dropped. A Lambda SQS event source deletes the
   * records its handler did not report as failed, so it passes false.
   */
  deleteWhenSettled: boolean;
}

/**
 * Plans one received message and settles it with the queue: planned or dropped for good
 * (deleted), or failed for now (hidden for the backoff, then received again).
 */
export async function settlePlanMessage(
  received: ReceivedMessage<PlanMessage>,
  options: SettleOptions,
): Promise<"planned" | "dropped" | "retry"> {
  const { queue, deps } = options;
  const { deliveryId, task } = received.body;
  const fields = { deliveryId, task: task.kind, repository: received.body.repository.fullName };
  const settle = async () => {
    if (options.deleteWhenSettled) await queue.delete(received.receipt);
  };
  try {
    const outcome = await planMessage(deps, received.body);
    deps.log.info({ ...fields, ...outcome }, `planned ${task.kind} for delivery ${deliveryId}`);
    await settle();
    return "planned";
  } catch (error) {
    const next = decideAfterFailure(error, received.receiveCount, options.retry ?? DEFAULT_RETRY);
    if (next.action === "drop") {
      deps.log.error(
        { ...fields, err: error },
        `delivery ${deliveryId} (${task.kind}) cannot be planned and is dropped: ${next.why}`,
      );
      await settle().catch(() => {});
      return "dropped";
    }
    const last = options.maxReceives !== undefined && received.receiveCount >= options.maxReceives;
    deps.log[last ? "error" : "warn"](
      { ...fields, attempt: received.receiveCount, err: error },
      last
        ? `delivery ${deliveryId} (${task.kind}) failed on its last try and goes to the dead-letter queue: ${next.why}`
        : `delivery ${deliveryId} (${task.kind}) failed (${next.why}); trying again in ${next.delaySeconds} s`,
    );
    await queue.extendVisibility(received.receipt, next.delaySeconds).catch(() => {});
    return "retry";
  }
}
