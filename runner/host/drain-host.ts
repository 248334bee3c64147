import { setTimeout as sleep } from "node:timers/promises";
import { drainGraceMs, hostLeaving, type LeavingNotice } from "../../src/core/host-leaving.js";
import type { LineLog } from "../worker/worker-context.js";
import type { InstanceMetadata } from "./instance-metadata.js";

/** Time kept back from the drain for handing jobs back and completing the lifecycle action. */
export const DRAIN_MARGIN_MS = 20_000;

export interface DrainHostDeps {
  metadata: InstanceMetadata;
  /** How often the metadata is read. */
  pollMs: number;
  /** The lifecycle hook's timeout: how long the group waits for this host. */
  drainMs: number;
  /** Stops taking work and lets running jobs finish for `graceMs`, then hands the rest back. */
  stopWork(graceMs: number): Promise<void>;
  /** Tells the Auto Scaling group this host may go (CompleteLifecycleAction, CONTINUE). */
  completeLifecycleAction(instanceId: string): Promise<void>;
  log: LineLog;
  now?: () => number;
}

export interface HostDrain {
  /** Resolves with the notice once the host is drained and the lifecycle action completed. */
  readonly drained: Promise<LeavingNotice>;
  /** Stops watching (the runner stops for another reason). */
  stop(): void;
}

/**
 * Watches the instance metadata until the host is leaving (scale-in, replacement, spot
 * interruption), then drains it: no new jobs, running ones finish within the time left or
 * go back to the queue, and the group's lifecycle action is completed so the host goes
 * without waiting out the hook's timeout.
 */
export function drainWhenLeaving(deps: DrainHostDeps): HostDrain {
  const now = deps.now ?? Date.now;
  const watching = new AbortController();
  const drained = (async () => {
    const notice = await waitForNotice(deps, watching.signal);
    const seenAt = now();
    const graceMs = drainGraceMs(notice, seenAt, deps.drainMs, DRAIN_MARGIN_MS);
    const why =
      notice.kind === "spot"
        ? `spot interruption (${notice.action} at ${new Date(notice.at).toISOString()})`
        : "the Auto Scaling group is terminating it";
    deps.log(
      `host leaving: ${why}; no new jobs, running jobs may finish within ${Math.round(graceMs / 1000)} s, then go back to the queue`,
      "warn",
    );
    await deps.stopWork(graceMs);
    const instanceId = await deps.metadata.get("instance-id");
    if (instanceId === undefined) throw new Error("instance metadata has no instance-id");
    try {
      await deps.completeLifecycleAction(instanceId.trim());
      deps.log(`host drained: lifecycle action of ${instanceId.trim()} completed`);
    } catch (error) {
      // A spot host of a group without a pending hook has no action to complete.
      const level = notice.kind === "spot" ? undefined : "warn";
      deps.log(
        `host drained; completing the lifecycle action failed: ${(error as Error).message}`,
        level,
      );
    }
    return notice;
  })();
  // Stopping the watch before a notice leaves `drained` pending for good; nobody waits on it.
  drained.catch(() => {});
  return { drained, stop: () => watching.abort() };
}

async function waitForNotice(deps: DrainHostDeps, signal: AbortSignal): Promise<LeavingNotice> {
  let failing = false;
  for (;;) {
    try {
      const [state, spot] = await Promise.all([
        deps.metadata.get("autoscaling/target-lifecycle-state"),
        deps.metadata.get("spot/instance-action"),
      ]);
      if (failing) deps.log("host watch: instance metadata answers again");
      failing = false;
      const notice = hostLeaving(state, spot);
      if (notice) return notice;
    } catch (error) {
      // Said once per outage, not every poll.
      if (!failing) {
        deps.log(
          `host watch: cannot read the instance metadata (${(error as Error).message}); trying again`,
          "warn",
        );
      }
      failing = true;
    }
    await sleep(deps.pollMs, undefined, { signal, ref: false });
  }
}
