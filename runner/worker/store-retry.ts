import { setTimeout as sleep } from "node:timers/promises";
import { PermanentError } from "../../src/core/errors.js";

/** How a store call of a job's life is tried again: tries, first wait, longest wait. */
export interface StoreRetry {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * A call before the job runs (its claim, its log's position, its check run's id) or a note
 * after its end (reported): a few seconds; then the job goes back, or the note is made by
 * the next holder of its message.
 */
export const BRIEF: StoreRetry = { attempts: 4, baseMs: 250, maxMs: 2_000 };

/**
 * Recording the end of a job that ran: about two minutes (the heartbeat holds the lease
 * meanwhile). A job whose end cannot be recorded runs again when its lease lapses, so this
 * is what stands between an outage of the store and a job run twice.
 */
export const PATIENT: StoreRetry = { attempts: 10, baseMs: 500, maxMs: 30_000 };

/**
 * Runs `call` until it succeeds, trying again on a transient failure (a store or queue call
 * that failed past the SDK's own retries: throttling, a 5xx, a timeout) with exponential
 * backoff and jitter. A PermanentError (ConflictError: the job is not as expected) is
 * thrown at once, as is the last failure; `stop` ends the tries early (the lease is lost).
 */
export async function retryTransient<T>(
  call: () => Promise<T>,
  policy: StoreRetry,
  stop: () => boolean = () => false,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof PermanentError || attempt >= policy.attempts || stop()) throw error;
      const wait = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(wait * (0.75 + Math.random() * 0.5));
    }
  }
}
