import type { JobRecord } from "./build-records.js";

/** What becomes of a waiting job: queued, or ended `skipped` with the reason. */
export type Release = { action: "release" } | { action: "skip"; reason: string };

const ENDED_WORDS = {
  failure: "failed",
  timed_out: "timed out",
  cancelled: "was cancelled",
  skipped: "was skipped",
} as const;

/**
 * The fate of a job waiting for `needs` (the jobs as read now; undefined: gone): released
 * once every one succeeded, skipped as soon as one ended otherwise, else undefined (it
 * waits on). Pure.
 */
export function decideRelease(needs: readonly (JobRecord | undefined)[]): Release | undefined {
  for (const need of needs) {
    if (!need) return { action: "skip", reason: "a job it needs no longer exists" };
    if (need.status === "errored") return { action: "skip", reason: `${need.hook} could not run` };
    if (need.status === "completed" && need.conclusion !== "success") {
      const words = need.conclusion ? ENDED_WORDS[need.conclusion] : "failed";
      return { action: "skip", reason: `${need.hook} ${words}` };
    }
  }
  const succeeded = needs.every((n) => n?.status === "completed" && n.conclusion === "success");
  return succeeded ? { action: "release" } : undefined;
}
