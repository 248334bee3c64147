import { setTimeout as sleep } from "node:timers/promises";
import type { PlanMessage } from "../core/plan-message.js";
import type { Queue, ReceivedMessage } from "../queue/port.js";
import type { RetryPolicy } from "./plan-failure.js";
import type { PlannerDeps } from "./planner-deps.js";
import { settlePlanMessage } from "./settle-plan-message.js";

export interface PlannerOptions {
  queue: Queue<PlanMessage>;
  deps: PlannerDeps;
  /** Messages planned at once. Default 4 (GitHub paces writes per installation anyway). */
  concurrency?: number;
  retry?: RetryPolicy;
  /** The plan queue's receive limit, to say in the log when a try was the last. */
  maxReceives?: number;
  /** Long-poll wait of one receive. Default 20 s. */
  pollWaitSeconds?: number;
  /** How long a received message stays hidden; a heartbeat renews it while it is planned. */
  visibilitySeconds?: number;
}

export interface Planner {
  /** Resolves once no message is being planned and a receive found the queue empty. */
  idle(): Promise<void>;
  /** Stops receiving and waits for the messages being planned. */
  stop(): Promise<void>;
}

/**
 * The planner's loop: takes planning messages off their queue and does their GitHub work.
 * A failure GitHub may get over (5xx, rate limit, timeout) leaves the message hidden for a
 * doubling backoff and then it comes back, for hours if need be; a permanent one (404,
 * app uninstalled) ends it with a log line.
 */
export function startPlanner(options: PlannerOptions): Planner {
  const { queue, deps } = options;
  const concurrency = options.concurrency ?? 4;
  const visibility = options.visibilitySeconds ?? 60;
  const running = new Set<Promise<void>>();
  const receiving = new AbortController();
  let idleWaiters: (() => void)[] = [];
  let slotFreed: (() => void) | undefined;
  let stopping = false;

  const handle = (received: ReceivedMessage<PlanMessage>) => {
    const heartbeat = setInterval(
      () => void queue.extendVisibility(received.receipt, visibility).catch(() => {}),
      (visibility * 1000) / 3,
    );
    // The delivery's lease as long as the message stays hidden: a killed planner's message
    // comes back when its lease is over.
    return settlePlanMessage(received, {
      ...options,
      deleteWhenSettled: true,
      leaseMs: visibility * 1000,
    }).finally(() => clearInterval(heartbeat));
  };

  const loop = (async () => {
    let failures = 0;
    while (!stopping) {
      if (running.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      const waiting = idleWaiters;
      let batch: ReceivedMessage<PlanMessage>[];
      try {
        batch = await queue.receive({
          maxMessages: Math.min(concurrency - running.size, 10),
          waitSeconds: options.pollWaitSeconds ?? 20,
          visibilitySeconds: visibility,
          signal: receiving.signal,
        });
        failures = 0;
      } catch (error) {
        if (stopping) break;
        failures += 1;
        const wait = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
        deps.log.warn({ err: error }, `planning queue receive failed; retrying in ${wait} ms`);
        await sleep(wait, undefined, { signal: receiving.signal }).catch(() => {});
        continue;
      }
      if (batch.length === 0 && running.size === 0) {
        idleWaiters = idleWaiters.filter((w) => !waiting.includes(w));
        for (const resolve of waiting) resolve();
      }
      for (const received of batch) {
        const done: Promise<void> = handle(received).then(
          () => {},
          () => {},
        );
        void done.finally(() => {
          running.delete(done);
          slotFreed?.();
        });
        running.add(done);
      }
    }
  })();

  return {
    idle: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
    async stop() {
      stopping = true;
      receiving.abort();
      slotFreed?.();
      await loop;
      await Promise.all(running);
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    },
  };
}
