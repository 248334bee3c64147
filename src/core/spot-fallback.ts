/**
 * On-demand fallback for a runner group that runs on spot: when the group's launches fail
 * for want of spot capacity in every instance type it may use, the scaler asks for
 * on-demand hosts instead for a while, then tries spot again. Pure: the scaler
 * (src/scaler/scale-fleet.ts) reads the group's scaling activities and applies the answer.
 */

/** One of the group's scaling activities, as DescribeScalingActivities gives it. */
export interface LaunchActivity {
  /** When it started (ms since the epoch). */
  at: number;
  /** StatusCode Failed or Cancelled. */
  failed: boolean;
  /** StatusMessage and Description, joined. */
  message: string;
}

export interface SpotFallbackPolicy {
  /** The stack's share of on-demand hosts above the base (0–100); 100 means no spot at all. */
  configuredPercent: number;
  /** How long the group stays on on-demand after the last spot shortage before spot is tried again. */
  holdMs: number;
  /** How far back a failed launch still counts. */
  lookbackMs: number;
}

export interface SpotFallbackDecision {
  /** OnDemandPercentageAboveBaseCapacity to set. */
  onDemandPercent: number;
  /** Until when (ms since the epoch) the group stays on on-demand; undefined: not falling back. */
  until: number | undefined;
  reason: string;
}

/**
 * EC2's words for "no spot host could be had": no capacity in the pools, the account's
 * spot limit, or a maximum price below the market.
 */
const SHORTAGE =
  /InsufficientInstanceCapacity|no Spot capacity|UnfulfillableCapacity|MaxSpotInstanceCountExceeded|SpotMaxPriceTooLow|capacity-not-available/i;

export function isSpotShortage(activity: LaunchActivity): boolean {
  return activity.failed && /spot/i.test(activity.message) && SHORTAGE.test(activity.message);
}

/**
 * 100 % on-demand from the first spot shortage until `holdMs` after the latest one, then
 * the configured share again (spot is cheaper; if it is still short, the next failed
 * launch falls back once more). A group configured all on-demand is left alone.
 */
export function decideOnDemandShare(
  activities: readonly LaunchActivity[],
  currentPercent: number,
  policy: SpotFallbackPolicy,
  now: number,
  until: number | undefined,
): SpotFallbackDecision {
  if (policy.configuredPercent >= 100) {
    return { onDemandPercent: currentPercent, until: undefined, reason: "all on-demand already" };
  }
  const shortages = activities.filter((a) => isSpotShortage(a) && now - a.at <= policy.lookbackMs);
  const latest = shortages.reduce<number | undefined>(
    (m, a) => Math.max(m ?? a.at, a.at),
    undefined,
  );
  const holdUntil = Math.max(until ?? 0, latest === undefined ? 0 : latest + policy.holdMs);
  if (holdUntil > now) {
    const since = latest === undefined ? "" : ` (last at ${new Date(latest).toISOString()})`;
    return {
      onDemandPercent: 100,
      until: holdUntil,
      reason: `spot capacity short${since}: on-demand hosts until ${new Date(holdUntil).toISOString()}`,
    };
  }
  return {
    onDemandPercent: policy.configuredPercent,
    until: undefined,
    reason:
      currentPercent === policy.configuredPercent
        ? `${policy.configuredPercent} % on-demand above the base, as configured`
        : `no spot shortage for ${Math.round(policy.holdMs / 60_000)} min: back to ${policy.configuredPercent} % on-demand above the base`,
  };
}
