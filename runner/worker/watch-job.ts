import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";

export interface WatchOptions {
  store: Store;
  queue: Queue;
  jobId: string;
  owner: string;
  /** The newest receipt of the job's message (a redelivery brings a new one). */
  receipt: () => string;
  leaseMs: number;
  heartbeatMs: number;
  cancelPollMs: number;
  /** The visibility the message gets on each heartbeat, in seconds. */
  visibilitySeconds: number;
  /** Someone asked to cancel the job (the reason is the store's job message). */
  onCancel: (reason: string) => void;
  /** Another runner received the message meanwhile and left its receipt in the store. */
  onReceipt?: (receipt: string) => void;
  /** The lease was renewed (the runner still owns the job at this time). */
  onRenewed?: () => void;
  /** Another runner holds the lease now: this one must stop without reporting. */
  onLeaseLost: (why: string) => void;
  onError: (error: unknown) => void;
}

/**
 * Runs `tick` every `ms`, skipping a turn while the last one is still running: a slow store
 * gets one call at a time, not a queue of them behind its connections.
 */
export function everyInTurn(ms: number, tick: () => Promise<void>): NodeJS.Timeout {
  let running = false;
  return setInterval(() => {
    if (running) return;
    running = true;
    void tick().finally(() => (running = false));
  }, ms);
}

/**
 * While a job runs: renews its lease and its message's visibility on a heartbeat, and polls
 * its record for a cancel and for a newer receipt of its message. Returns a function that
 * stops both.
 */
export function watchJob(options: WatchOptions): () => void {
  let stopped = false;
  const beat = everyInTurn(options.heartbeatMs, async () => {
    try {
      await options.store.renewLease(options.jobId, options.owner, options.leaseMs);
      if (!stopped) options.onRenewed?.();
    } catch (error) {
      if (stopped) return;
      if ((error as Error).name === "ConflictError") options.onLeaseLost((error as Error).message);
      else options.onError(error);
      return;
    }
    // A beat that was in flight when the job ended must not hide a message given back.
    if (stopped) return;
    try {
      await options.queue.extendVisibility(options.receipt(), options.visibilitySeconds);
    } catch (error) {
      if (!stopped) options.onError(error);
    }
  });
  const poll = everyInTurn(options.cancelPollMs, () =>
    options.store.getJob(options.jobId).then(
      (job) => {
        if (stopped || !job) return;
        if (job.messageReceipt && job.messageReceipt !== options.receipt()) {
          options.onReceipt?.(job.messageReceipt);
        }
        if (job.cancelRequested) options.onCancel(job.message ?? "cancelled");
      },
      (error: unknown) => {
        if (!stopped) options.onError(error);
      },
    ),
  );
  return () => {
    stopped = true;
    clearInterval(beat);
    clearInterval(poll);
  };
}
