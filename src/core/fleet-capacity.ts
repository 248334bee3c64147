/**
 * How many runner hosts the fleet wants: the scaler's whole decision, from what the job
 * queue and the Auto Scaling group say, with no I/O (src/scaler/scale-fleet.ts does that).
 */

/** The job queue and the runner group, as read at one moment. */
export interface FleetView {
  /** Jobs waiting to be received: visible and delayed (retry backoff) messages. */
  waiting: number;
  /** Jobs being run: in-flight messages (a runner's heartbeat keeps its job's hidden). */
  running: number;
  /** The group's desired capacity: hosts booting and in service, not those leaving. */
  desired: number;
  /** Hosts chosen for scale-in that still finish their jobs (Terminating:Wait). */
  draining: number;
  /** The group's MinSize and MaxSize. */
  minHosts: number;
  maxHosts: number;
}

export interface FleetPolicy {
  /** Jobs one host runs at once (KOZMIC_RUNNER_CONCURRENCY on the hosts). */
  slotsPerHost: number;
  /** How long more hosts than needed are kept before the group shrinks (to zero when idle). */
  idleMs: number;
}

export interface CapacityDecision {
  /** The desired capacity to set (the same as the view's when nothing changes). */
  desired: number;
  /**
   * Since when (ms since the epoch) the group has had more hosts than its jobs need;
   * undefined when it has not. The scaler keeps it between runs.
   */
  surplusSince: number | undefined;
  /** One line saying why, for the scaler's log. */
  reason: string;
}

/**
 * Grows at once to the hosts the jobs need (waiting and running, `slotsPerHost` each,
 * within MinSize..MaxSize); shrinks only after the surplus lasted `idleMs`, so a quiet
 * minute between two pushes keeps the hosts warm and an idle fleet goes back to MinSize
 * (zero by default). Hosts still booting count as capacity (they are in `desired`); jobs
 * that draining hosts are finishing need no new host.
 */
export function decideCapacity(
  view: FleetView,
  policy: FleetPolicy,
  now: number,
  surplusSince: number | undefined,
): CapacityDecision {
  const slots = Math.max(1, Math.floor(policy.slotsPerHost));
  const finishedElsewhere = Math.min(view.running, view.draining * slots);
  const jobs = view.waiting + view.running - finishedElsewhere;
  const wanted = Math.ceil(jobs / slots);
  const needed = Math.min(view.maxHosts, Math.max(view.minHosts, wanted));
  const counted =
    `${jobs} job(s) (${view.waiting} waiting, ${view.running - finishedElsewhere} running` +
    (finishedElsewhere > 0 ? `, ${finishedElsewhere} on draining hosts` : "") +
    `) at ${slots} per host`;

  if (view.desired > view.maxHosts) {
    return {
      desired: needed,
      surplusSince: undefined,
      reason: `${view.desired} host(s) wanted but the group's maximum is ${view.maxHosts}`,
    };
  }
  if (needed > view.desired) {
    const capped = wanted > view.maxHosts ? ` (capped at the maximum ${view.maxHosts})` : "";
    return {
      desired: needed,
      surplusSince: undefined,
      reason: `${counted} need ${needed} host(s)${capped}; ${view.desired} wanted before`,
    };
  }
  if (needed === view.desired) {
    return { desired: needed, surplusSince: undefined, reason: `${counted}: ${needed} host(s)` };
  }
  const since = surplusSince ?? now;
  const idleFor = now - since;
  if (idleFor >= policy.idleMs) {
    return {
      desired: needed,
      surplusSince: undefined,
      reason: `${counted} need ${needed} host(s); ${view.desired} were more than that for ${Math.round(idleFor / 1000)} s`,
    };
  }
  return {
    desired: view.desired,
    surplusSince: since,
    reason: `${counted} need ${needed} host(s); keeping ${view.desired} until the surplus has lasted ${Math.round(policy.idleMs / 1000)} s (${Math.round(idleFor / 1000)} s so far)`,
  };
}
