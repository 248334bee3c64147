import { setTimeout as sleep } from "node:timers/promises";
import type { LineLog } from "../worker/worker-context.js";

/**
 * How many polls a host stays protected after its last job (30 s at the default 5 s), so
 * back-to-back jobs cost no calls.
 */
export const IDLE_POLLS_BEFORE_UNPROTECT = 6;

export interface ScaleInProtectionDeps {
  /** Jobs this runner is running now. */
  busy(): number;
  /** This host's instance id (from the instance metadata). */
  instanceId(): Promise<string | undefined>;
  /** SetInstanceProtection for this host on its group. */
  setProtected(instanceId: string, on: boolean): Promise<void>;
  /** How often `busy()` is looked at. */
  pollMs: number;
  log: LineLog;
  now?: () => number;
}

/**
 * Keeps a busy host out of scale-in: protected from the moment it runs a job until it has
 * been idle for IDLE_POLLS_BEFORE_UNPROTECT polls, so that when the scaler lowers the group's
 * capacity, Auto Scaling terminates idle hosts and the running jobs finish where they are.
 * The lifecycle hook's drain stays the guarantee for what protection cannot cover (a job
 * taken in the seconds before the call, spot, replacement).
 */
export function protectWhileBusy(deps: ScaleInProtectionDeps): { stop(): void } {
  const now = deps.now ?? Date.now;
  const watching = new AbortController();
  const idleMs = deps.pollMs * IDLE_POLLS_BEFORE_UNPROTECT;
  void (async () => {
    // Unknown at start: a runner restarted while protected must still let its host go.
    let applied: boolean | undefined;
    let idleSince = now();
    let failing = false;
    while (!watching.signal.aborted) {
      const busy = deps.busy();
      if (busy > 0) idleSince = now();
      const wanted = busy > 0 || (applied === true && now() - idleSince < idleMs);
      if (wanted !== applied) {
        try {
          const id = await deps.instanceId();
          if (id === undefined) throw new Error("instance metadata has no instance-id");
          await deps.setProtected(id.trim(), wanted);
          if (failing) deps.log("scale-in protection: Auto Scaling answers again");
          failing = false;
          const was = applied;
          applied = wanted;
          deps.log(
            wanted
              ? `scale-in protection on: ${busy} job(s) running`
              : was === undefined
                ? "scale-in protection off: no job running"
                : `scale-in protection off: idle for ${Math.round(idleMs / 1000)} s`,
          );
        } catch (error) {
          // Said once per outage; the drain still covers a host terminated meanwhile.
          if (!failing) {
            deps.log(
              `scale-in protection: cannot set it (${(error as Error).message}); trying again`,
              "warn",
            );
          }
          failing = true;
        }
      }
      await sleep(deps.pollMs, undefined, { signal: watching.signal, ref: false }).catch(() => {});
    }
  })();
  return { stop: () => watching.abort() };
}
