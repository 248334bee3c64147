import { createHash } from "node:crypto";

/**
 * Ids derived from a seed: the same seed gives the same sequence, so a planner that retries
 * a delivery plans the very build and jobs it began (and finds them), instead of new ones.
 * UUID-shaped (version 8, "custom"), like the random ids elsewhere.
 */
export function derivedIds(seed: string): () => string {
  let n = 0;
  return () => {
    n += 1;
    const hex = createHash("sha256").update(`${seed}\n${n}`).digest("hex");
    const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
}

/** The seed of the ids of a re-run's build: its repository and the delivery that asked for it. */
export function rerunSeed(repoId: number, deliveryId: string): string {
  return `rerun:${repoId}:${deliveryId}`;
}

/**
 * The id the build of a re-run will have once the planner has planned `deliveryId` (a plan's
 * first id is its build's), so that the page that asked can wait for it.
 */
export function rerunBuildId(repoId: number, deliveryId: string): string {
  return derivedIds(rerunSeed(repoId, deliveryId))();
}
