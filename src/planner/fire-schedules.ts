import type { PlanMessage } from "../core/plan-message.js";
import { dueTick } from "../core/schedules.js";
import { enqueuePlanOnce, type EnqueueOutcome } from "../github/app-deps.js";
import type { Queue } from "../queue/port.js";
import type { Store } from "../store/port.js";
import type { PlannerLog } from "./planner-deps.js";

export interface FireSchedulesDeps {
  store: Store;
  planQueue: Queue<PlanMessage>;
  /** Epoch milliseconds. */
  now: () => number;
  log: PlannerLog;
}

export interface FiredTick {
  scheduleId: string;
  repoFullName: string;
  branch: string;
  tick: number;
  /** `duplicate-delivery`: another timer handed this tick to the planner first. */
  outcome: EnqueueOutcome["outcome"];
}

/**
 * Hands every schedule's due tick to the planner, once across processes: the tick's
 * delivery id is recorded with a conditional write (a second timer finds it recorded), then
 * the schedule's last tick moves to it. A send that failed forgets the delivery and leaves
 * the last tick, so the next pass tries the tick again. Each entry alone: one failing
 * (its queue, its store item) never holds up the others.
 */
export async function fireDueSchedules(deps: FireSchedulesDeps): Promise<FiredTick[]> {
  const now = deps.now();
  const fired: FiredTick[] = [];
  for (const schedule of await deps.store.listSchedules()) {
    const tick = dueTick(schedule.cron, schedule.lastTick, now);
    if (tick === undefined) continue;
    try {
      const { outcome } = await enqueuePlanOnce(
        { store: deps.store, planQueue: deps.planQueue, now: deps.now },
        // The tick's delivery id: recorded once, so a tick is planned once.
        `schedule:${schedule.id}:${tick}`,
        {
          installationId: schedule.installationId,
          repository: {
            id: schedule.repoId,
            fullName: schedule.repoFullName,
            private: schedule.repoPrivate,
          },
          task: {
            kind: "schedule",
            scheduleId: schedule.id,
            cron: schedule.cron,
            branch: schedule.branch,
            tick,
          },
        },
      );
      await deps.store.advanceSchedule(schedule.id, tick);
      fired.push({
        scheduleId: schedule.id,
        repoFullName: schedule.repoFullName,
        branch: schedule.branch,
        tick,
        outcome,
      });
      if (outcome === "enqueued") {
        deps.log.info(
          {
            repository: schedule.repoFullName,
            branch: schedule.branch,
            cron: schedule.cron,
            tick: new Date(tick).toISOString(),
          },
          "schedule fired",
        );
      }
    } catch (error) {
      deps.log.warn(
        { err: error, repository: schedule.repoFullName, cron: schedule.cron },
        `schedule not fired, tried again in the next pass: ${(error as Error).message}`,
      );
    }
  }
  return fired;
}
