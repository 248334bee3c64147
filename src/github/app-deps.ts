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
 * Hands a delivery to the planner: a delivery recorded before is dropped; else its planning
 * message is sent, then its id recorded. In that order, a process killed between the two
 * leaves nothing that would refuse GitHub's "Redeliver" (same id): the delivery is sent
 * again and planned once, as the planner plans any message it gets twice (ids derived from
 * the delivery). Recorded first, such a kill lost the push for good.
 */
export async function enqueuePlan(
  deps: AppDeps,
  deliveryId: string,
  message: Omit<PlanMessage, "version" | "deliveryId">,
): Promise<EnqueueOutcome> {
  const task = message.task.kind;
  if (await deps.store.hasDelivery(deliveryId, deps.now())) {
    return { outcome: "duplicate-delivery", task };
  }
  await deps.planQueue.send({ version: 1, deliveryId, ...message });
  // Best effort: a delivery that is not recorded is planned again if it comes again, once.
  await deps.store.recordDelivery(deliveryId, deps.now()).catch(() => {});
  return { outcome: "enqueued", task };
}

/**
 * Like enqueuePlan, for a delivery that several processes hand over at once (a schedule's
 * tick from each timer): the delivery id is recorded first, with a conditional write, so
 * one of them sends. A process killed between the record and the send loses that one
 * delivery, which a timer may (the next tick comes) and a webhook may not.
 */
export async function enqueuePlanOnce(
  deps: Pick<AppDeps, "store" | "planQueue" | "now">,
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
