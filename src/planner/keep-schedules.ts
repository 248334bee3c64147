import type { Config } from "../core/config/schema.js";
import { scheduleId, type ScheduleRecord } from "../core/schedules.js";
import type { PlannerDeps } from "./planner-deps.js";
import type { EventFacts } from "../core/plan-jobs.js";

/**
 * A push to the default branch: the repository's schedule entries become those of the
 * configuration it carries (none when it has none). Other events leave them alone. A kept
 * entry keeps the tick it fired last; a new one starts now, never firing for the past.
 */
export async function keepSchedules(
  deps: Pick<PlannerDeps, "store" | "now">,
  input: { facts: EventFacts; defaultBranch?: string | undefined },
  entries: NonNullable<Config["schedule"]>,
): Promise<void> {
  const { facts, defaultBranch } = input;
  if (facts.event !== "push" || !defaultBranch || facts.ref !== `refs/heads/${defaultBranch}`) {
    return;
  }
  const repoId = facts.repository.id;
  const now = deps.now();
  const records = new Map<string, ScheduleRecord>();
  for (const { cron, branch = defaultBranch } of entries) {
    const id = scheduleId(repoId, cron, branch);
    records.set(id, {
      id,
      repoId,
      repoFullName: facts.repository.fullName,
      repoPrivate: facts.repository.private,
      installationId: facts.installationId,
      cron,
      branch,
      lastTick: now,
    });
  }
  await deps.store.replaceSchedules(repoId, [...records.values()]);
}
