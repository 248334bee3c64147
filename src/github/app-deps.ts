import type { PlanMessage } from "../core/plan-message.js";
import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";

/**
 * What the webhook handlers need: the planning queue and the store (to drop a delivery
 * seen before). They never call GitHub; the planner does, behind the queue.
 */
export interface AppDeps {
  planQueue: Queue<PlanMessage>;
  store: Store;
  newId: () => string;
  /** Epoch milliseconds. */
  now: () => number;
}

export type EnqueueOutcome = { outcome: "enqueued" | "duplicate-delivery"; task: string };

/**
 * Hands a delivery to the planner: records its id (a delivery seen before is dropped) and
 * sends its planning message. When the send fails the id is forgotten again, so that
 * GitHub's "Redeliver" (same id) can still bring it.
 */
export async function enqueuePlan(
  deps: AppDeps,
  deliveryId: string,
  message: Omit<PlanMessage, "version" | "deliveryId">,
): Promise<EnqueueOutcome> {
  const task = message.task.kind;
  if (!(await deps.store.recordDelivery(deliveryId, deps.now()))) {
    return { outcome: "duplicate-delivery", task };
  }
  try {
    await deps.planQueue.send({ version: 1, deliveryId, ...message });
  } catch (error) {
    await deps.store.forgetDelivery(deliveryId).catch(() => {});
    throw error;
  }
  return { outcome: "enqueued", task };
}

/** Names from a payload, bounded as the planning message requires. */
export function clip(text: string, max = 300): string {
  return text.length > max ? text.slice(0, max) : text;
}
