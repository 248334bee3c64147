/**
 * Whether an EC2 runner host is about to go, from what its instance metadata says
 * (runner/host/watch-host-leaving.ts reads it):
 *  - `autoscaling/target-lifecycle-state`: "Terminated" once the Auto Scaling group chose
 *    the host for scale-in or replacement (the lifecycle hook holds it in Terminating:Wait);
 *  - `spot/instance-action`: a JSON notice (`{"action":"terminate","time":"…"}`) about two
 *    minutes before EC2 takes a spot host back; absent (404) otherwise.
 */

export type LeavingNotice =
  { kind: "scale-in" } | { kind: "spot"; action: string; /** ms since the epoch */ at: number };

/** The notice in the two metadata values (undefined: not there), or undefined when staying. */
export function hostLeaving(
  targetLifecycleState: string | undefined,
  spotInstanceAction: string | undefined,
): LeavingNotice | undefined {
  const spot = parseSpotAction(spotInstanceAction);
  if (spot) return spot;
  if (targetLifecycleState?.trim() === "Terminated") return { kind: "scale-in" };
  return undefined;
}

function parseSpotAction(text: string | undefined): LeavingNotice | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  let notice: unknown;
  try {
    notice = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (notice === null || typeof notice !== "object") return undefined;
  const { action, time } = notice as { action?: unknown; time?: unknown };
  // "hibernate" and "stop" take the host away as surely as "terminate".
  if (typeof action !== "string" || typeof time !== "string") return undefined;
  const at = Date.parse(time);
  if (Number.isNaN(at)) return undefined;
  return { kind: "spot", action, at };
}

/**
 * How long running jobs may go on before they are handed back: until the lifecycle hook's
 * time runs out (`drainMs` after the notice was seen) or the spot notice's time, less
 * `marginMs` for giving jobs back and completing the lifecycle action.
 */
export function drainGraceMs(
  notice: LeavingNotice,
  seenAt: number,
  drainMs: number,
  marginMs: number,
): number {
  const end = notice.kind === "spot" ? Math.min(notice.at, seenAt + drainMs) : seenAt + drainMs;
  return Math.max(0, end - seenAt - marginMs);
}
