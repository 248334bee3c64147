/**
 * Job states and their transitions:
 * [waiting ->] queued -> running(preparing | installing | building) -> completed(conclusion) | errored.
 * A job that `needs` others waits until they end: then it is queued, or completed `skipped`.
 */
export type JobStatus = "waiting" | "queued" | "running" | "completed" | "errored";
export type JobPhase = "preparing" | "installing" | "building";
export type JobConclusion = "success" | "failure" | "timed_out" | "cancelled" | "skipped";

const NEXT: Record<JobStatus, readonly JobStatus[]> = {
  waiting: ["queued", "completed", "errored"],
  queued: ["running", "completed", "errored"],
  // running -> queued: a runner gave the job back (shutdown, infrastructure retry).
  running: ["running", "queued", "completed", "errored"],
  completed: [],
  errored: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

export function isFinal(status: JobStatus): boolean {
  return status === "completed" || status === "errored";
}
