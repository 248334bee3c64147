import { createHash } from "node:crypto";
import { Cron } from "croner";

/** Most `schedule:` entries one repository may have. */
export const MAX_SCHEDULES = 10;

/**
 * One entry of a repository's `schedule:`, as the store keeps it: the default branch's
 * configuration put it there, the timer fires it.
 */
export interface ScheduleRecord {
  /** scheduleId(repoId, cron, branch): the same entry keeps its id across pushes. */
  id: string;
  repoId: number;
  repoFullName: string;
  repoPrivate: boolean;
  installationId: number;
  /** Five fields, UTC. */
  cron: string;
  branch: string;
  /**
   * The last tick fired (epoch ms); for a new entry, when it was added, so that it never
   * fires for a time before it existed.
   */
  lastTick: number;
}

/** A schedule entry's id: the same repository, cron and branch give the same id. */
export function scheduleId(repoId: number, cron: string, branch: string): string {
  return createHash("sha256")
    .update(`${repoId}\n${cron}\n${branch}`, "utf8")
    .digest("hex")
    .slice(0, 32);
}

function cronOf(expression: string): Cron {
  return new Cron(expression, { timezone: "UTC", paused: true, mode: "5-part" });
}

/** What is wrong with a cron expression (5 fields, UTC), or undefined when croner reads it. */
export function checkCron(expression: string): string | undefined {
  try {
    if (cronOf(expression).nextRun(new Date(0)) === null) return "this cron expression never fires";
    return undefined;
  } catch (error) {
    const detail = (error as Error).message.replace(/^CronPattern: /, "");
    return `expected a cron expression of 5 fields (minute hour day month weekday, UTC) such as "0 3 * * *": ${detail}`;
  }
}

/**
 * The tick to fire now: the latest time the expression names in (after, now], or undefined.
 * A stretch of missed ticks (every process down) gives only its latest: one build, never a
 * burst of them. Epoch ms; ticks fall on whole minutes.
 */
export function dueTick(cron: string, after: number, now: number): number | undefined {
  // croner counts a run in the reference's own second as before it: `now` itself is due.
  const [latest] = cronOf(cron).previousRuns(1, new Date(now + 1));
  if (!latest) return undefined;
  const tick = latest.getTime();
  return tick > after && tick <= now ? tick : undefined;
}

/**
 * The event the stack's schedule rule (infra/lib/schedule-timer.ts) sends the planner
 * function every minute: fire the due schedules.
 */
export const SCHEDULE_TICK_EVENT = { kozmic: "fire-schedules" } as const;
export type ScheduleTickEvent = typeof SCHEDULE_TICK_EVENT;

export function isScheduleTick(event: unknown): event is ScheduleTickEvent {
  return (event as { kozmic?: unknown } | null)?.kozmic === SCHEDULE_TICK_EVENT.kozmic;
}
