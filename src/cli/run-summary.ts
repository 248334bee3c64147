import type { JobResult } from "../../runner/pipeline/run-job.js";

/** One hook's line in `kozmic run`'s summary: "hello: success in 4.2s (install: cache hit)". */
export function summaryLine(
  hook: string,
  result: Pick<JobResult, "conclusion" | "cacheHit" | "durations">,
): string {
  const { durations } = result;
  const install =
    result.cacheHit === undefined
      ? ""
      : result.cacheHit
        ? " (install: cache hit)"
        : ` (install: cache miss, ${durations.install.toFixed(1)}s)`;
  return `${hook}: ${result.conclusion.replace("_", " ")} in ${durations.total.toFixed(1)}s${install}`;
}
