import type { JobPhase } from "../pipeline/run-job.js";

/** How a job's check run learns it is under way, and of each later phase. */
export interface InProgressReport {
  /** Whether the first update has gone out (later updates wait for it). */
  readonly started: boolean;
  /** The job entered `next`; shown at once if the check run already went in progress. */
  phaseChanged(next: JobPhase): void;
  /**
   * No more updates: a pending one is dropped, those already sent are awaited (the
   * completion or a requeue must reach GitHub after them).
   */
  settle(): Promise<void>;
}

/**
 * Marks the check run in progress only once the job has run for `delayMs`. GitHub asks
 * integrations to pace their writes (one a second per installation), so every write a
 * short job saves is time its completion does not wait: a job that ends within the delay
 * reports once, straight to completed (its `started_at` tells GitHub when it began), and
 * the phase reached by then goes in the one in-progress update.
 */
export function scheduleInProgress(input: {
  delayMs: number;
  phase: () => JobPhase;
  /** The first update: the check run goes in progress in `phase`. Never rejects. */
  markInProgress: (phase: JobPhase) => Promise<void>;
  /** A later phase, once in progress. Never rejects: its failure is not the job's. */
  showPhase: (phase: JobPhase) => Promise<void>;
}): InProgressReport {
  let sent: Promise<void> | undefined;
  const phases = new Set<Promise<void>>();
  let settled = false;
  const send = () => {
    if (settled || sent) return;
    sent = input.markInProgress(input.phase());
  };
  const timer = input.delayMs > 0 ? setTimeout(send, input.delayMs) : undefined;
  if (!timer) send();
  return {
    get started() {
      return sent !== undefined;
    },
    phaseChanged(next) {
      if (!sent || settled) return;
      // After the first update, as GitHub must see them in order.
      const shown = sent.then(() => input.showPhase(next));
      phases.add(shown);
      void shown.finally(() => phases.delete(shown));
    },
    async settle() {
      settled = true;
      clearTimeout(timer);
      await sent;
      await Promise.all(phases);
    },
  };
}
