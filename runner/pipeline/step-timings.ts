/**
 * Where a job's steps say how long they took, for the runner benchmark's split (claim,
 * fetch, container create, ...). Absent in production: then nothing is measured.
 */
export type StepTimings = (step: string, ms: number) => void;

/** Runs `work`, reporting its duration under `step` when someone listens. */
export async function timed<T>(
  timings: StepTimings | undefined,
  step: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!timings) return work();
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings(step, performance.now() - start);
  }
}
