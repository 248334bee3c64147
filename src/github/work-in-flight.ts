/**
 * The webhook work still running. Probot answers a delivery 202 when its handler takes
 * longer than 9 s and lets the handler go on; a server that stops must wait for that work,
 * or the push it was turning into check runs is lost.
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
