import type { RequestOctokit } from "../checks/checks-reporter.js";
import type { JobMessage } from "../core/job-message.js";
import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";

/** Where the planner writes: pino's (and Probot's) `(fields, message)` shape. */
export interface PlannerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What planning needs: the store, the job queue, GitHub as one installation, time. */
export interface PlannerDeps {
  store: Store;
  jobQueue: Queue<JobMessage>;
  /** Base URL of the log pages, without a trailing slash. */
  publicUrl: string;
  /** An Octokit authenticated as the installation (write pacing and retries on). */
  octokitFor: (installationId: number) => Promise<RequestOctokit>;
  /** Epoch milliseconds. */
  now: () => number;
  log: PlannerLog;
}

/** A PlannerLog over a line writer (the runner's stderr lines). */
export function lineLog(write: (line: string) => void): PlannerLog {
  const line = (level: string) => (fields: object, message: string) => {
    const extra = Object.entries(fields)
      .filter(([key]) => key !== "err")
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
    write(`planner ${level}: ${message}${extra.length ? ` (${extra.join(" ")})` : ""}`);
  };
  return { info: line("info"), warn: line("warn"), error: line("error") };
}
