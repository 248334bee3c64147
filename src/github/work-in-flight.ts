/**
 * The webhook deliveries being received (verified, recorded, enqueued): a server that stops
 * waits for them, so a delivery it began is either answered and enqueued or not begun.
 */
export interface WorkInFlight {
  /** Runs `work`, counted until it settles; its result or error is passed through. */
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves once nothing is running (at once when nothing is). */
  idle(): Promise<void>;
}

export function createWorkInFlight(): WorkInFlight {
  const running = new Set<Promise<unknown>>();
  return {
    async track(work) {
      const promise = work();
      running.add(promise);
      try {
        return await promise;
      } finally {
        running.delete(promise);
      }
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
