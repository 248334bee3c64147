import { isFinal } from "../core/job-state.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import type { BadgeState } from "./render-badge.js";

/** How the pages name and colour each conclusion; anything else is "Completed", "unknown". */
const CONCLUDED: Partial<Record<string, { words: string; state: BadgeState }>> = {
  success: { words: "Succeeded", state: "passing" },
  failure: { words: "Failed", state: "failing" },
  timed_out: { words: "Timed out", state: "timed out" },
  cancelled: { words: "Cancelled", state: "cancelled" },
  skipped: { words: "Skipped", state: "cancelled" },
};

/** A job's status in words, as the pages show it. */
export function describeJobStatus(job: JobRecord): string {
  // Asked to stop and not ended yet: the runner (or the planner, for a queued job) ends it soon.
  if (job.cancelRequested && !isFinal(job.status)) return "Cancelling…";
  if (job.status === "waiting") return `Waiting for ${(job.waitsFor ?? []).join(", ")}`;
  if (job.status === "queued") return "Queued";
  if (job.status === "running") return `Running (${job.phase ?? "preparing"})`;
  if (job.status === "errored") return "Could not run (infrastructure failure)";
  if (job.conclusion === "failure" && job.exitCode !== undefined) {
    return `Failed (exit code ${job.exitCode})`;
  }
  return CONCLUDED[job.conclusion ?? ""]?.words ?? "Completed";
}

/** A short word for CSS classes and badges. */
export function jobState(job: JobRecord): BadgeState {
  if (job.status === "queued" || job.status === "waiting") return "queued";
  if (job.status === "running") return "running";
  if (job.status === "errored") return "error";
  return CONCLUDED[job.conclusion ?? ""]?.state ?? "unknown";
}

/** One state for several jobs: failed if any failed, else running if any runs, else passing. */
export function combinedState(jobs: readonly JobRecord[]): BadgeState {
  if (jobs.length === 0) return "unknown";
  const states = jobs.map(jobState);
  for (const s of ["failing", "timed out", "error", "running", "queued", "cancelled"] as const) {
    if (states.includes(s)) return s;
  }
  return states.every((s) => s === "passing") ? "passing" : "unknown";
}

/** `main` for `refs/heads/main`; the ref itself otherwise. */
export function branchOf(ref: string): string {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return "–";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/**
 * "push by octocat", "pull request by hubot", "rerun by octocat" (re-runs name themselves),
 * "schedule 0 3 * * *" (a schedule's trigger is its cron).
 */
export function describeTrigger(build: Pick<BuildRecord, "event" | "trigger">): string {
  if (build.event === "rerun") return build.trigger;
  if (build.event === "schedule") return `schedule ${build.trigger}`;
  return `${build.event === "pull_request" ? "pull request" : build.event} by ${build.trigger}`;
}
