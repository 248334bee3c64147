import { randomUUID } from "node:crypto";
import type { PlanMessage } from "../core/plan-message.js";
import type { Queue, ReceivedMessage } from "../queue/port.js";
import { holdLease } from "../store/hold-lease.js";
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
  /**
   * How long the delivery's planning lease lasts unrenewed (it is renewed a third of the way):
   * what a killed planner's copy waits before another plans it. Default 60 s.
   */
  leaseMs?: number;
}

/**
 * Plans one received message and settles it with the queue: planned or dropped for good
 * (deleted), or failed for now (hidden for the backoff, then received again).
 *
 * One delivery can be in the queue twice (the app killed between its send and its record of
 * the delivery, then GitHub's "Redeliver"; or SQS handing a message out twice), and two
 * planners that plan it at once would both find no check run yet and both make one. So
 * planning holds the delivery's lease; a copy that finds it held comes back when it ends
 * and then finds the work done.
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
    const outcome = await holdingLease(deps, `plan:${deliveryId}`, options.leaseMs ?? 60_000, () =>
      planMessage(deps, received.body),
    );
    if ("heldUntil" in outcome) {
      const delaySeconds = Math.max(1, Math.ceil((outcome.heldUntil - deps.now()) / 1000));
      deps.log.info(
        fields,
        `delivery ${deliveryId} (${task.kind}) is being planned by another copy of it; looking again in ${delaySeconds} s`,
      );
      await queue.extendVisibility(received.receipt, delaySeconds).catch(() => {});
      return "retry";
    }
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

/** `work` run while holding the lease `key` (renewed as it runs), or when another holds it. */
async function holdingLease<T>(
  deps: PlannerDeps,
  key: string,
  leaseMs: number,
  work: () => Promise<T>,
): Promise<T | { heldUntil: number }> {
  const owner = randomUUID();
  const lease = await deps.store.acquireLease(key, owner, leaseMs, deps.now());
  if (!lease.acquired) return { heldUntil: lease.expiresAt };
  const held = holdLease(deps.store, key, owner, leaseMs, { now: deps.now });
  try {
    return await work();
  } finally {
    await held.release();
  }
}
