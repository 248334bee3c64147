import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { fireDueSchedules, type FireSchedulesDeps, type FiredTick } from "./fire-schedules.js";

/** The store lease whose holder fires the schedules (one of the fleet's cache-key leases). */
export const SCHEDULE_LEASE_KEY = "kozmic:schedule-timer";

export interface ScheduleTimerOptions extends FireSchedulesDeps {
  /** Who holds the lease; default: host, pid and a random part. */
  owner?: string;
  /** How often a pass runs, on whole multiples of it. Default one minute (cron's grain). */
  intervalMs?: number;
}

export interface SchedulePass {
  /** Whether this process held the lease (and so fired). */
  holder: boolean;
  fired: FiredTick[];
}

export interface ScheduleTimer {
  readonly owner: string;
  /** One pass now: takes or renews the lease and, holding it, fires the due ticks. */
  pass(): Promise<SchedulePass>;
  /** The timer's latest pass (the one at start, until the next); undefined when it failed. */
  lastPass(): Promise<SchedulePass | undefined>;
  /** Stops the passes and gives the lease up, so another process takes over at once. */
  stop(): Promise<void>;
}

/**
 * The minute timer of `kozmic serve` and `kozmic runner`: a pass at start (a tick missed
 * while every process was down fires then, once) and every minute after. Of all processes on
 * one store, the holder of a lease fires; the lease outlives two passes, so a holder that
 * died is replaced within about three minutes. Firing is once per tick whoever holds it
 * (fire-schedules.ts), the lease only keeps the others from reading every schedule.
 */
export function startScheduleTimer(options: ScheduleTimerOptions): ScheduleTimer {
  const intervalMs = options.intervalMs ?? 60_000;
  const leaseMs = intervalMs * 2.5;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<SchedulePass | undefined> = Promise.resolve(undefined);

  const pass = async (): Promise<SchedulePass> => {
    const lease = await options.store.acquireLease(
      SCHEDULE_LEASE_KEY,
      owner,
      leaseMs,
      options.now(),
    );
    if (!lease.acquired) return { holder: false, fired: [] };
    return { holder: true, fired: await fireDueSchedules(options) };
  };

  const passThenWait = () => {
    running = pass()
      .catch((error: unknown) => {
        options.log.warn({ err: error }, `schedule timer: ${(error as Error).message}`);
        return undefined;
      })
      .finally(() => {
        if (stopped) return;
        // A little after each whole interval: a minute's tick is due by then.
        const wait = intervalMs - (Date.now() % intervalMs) + Math.min(2_000, intervalMs / 10);
        timer = setTimeout(passThenWait, wait).unref();
      });
  };
  passThenWait();

  return {
    owner,
    pass,
    lastPass: () => running,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await options.store.releaseLease(SCHEDULE_LEASE_KEY, owner).catch(() => {});
    },
  };
}
