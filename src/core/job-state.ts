/**
 * Job states and their transitions:
 * queued -> running(preparing | installing | building) -> completed(conclusion) | errored.
 */
export type JobStatus = "queued" | "running" | "completed" | "errored";
export type JobPhase = "preparing" | "installing" | "building";
export type JobConclusion = "success" | "failure" | "timed_out" | "cancelled";

const NEXT: Record<JobStatus, readonly JobStatus[]> = {
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
