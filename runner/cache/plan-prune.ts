import type { CacheEntry } from "./list-cache.js";

export interface PrunePolicy {
  /** Newest entries kept per repository + hook + scope. */
  keep?: number;
  /** Total bytes allowed; least recently used go first. */
  maxBytes?: number;
}

/** Pure: which cache entries to remove. Entries whose image is in use are never chosen. */
export function planPrune(
  entries: readonly CacheEntry[],
  policy: PrunePolicy,
  inUse: ReadonlySet<string>,
): CacheEntry[] {
  const remove = new Map<string, CacheEntry>();
  if (policy.keep !== undefined) {
    const groups = new Map<string, CacheEntry[]>();
    for (const e of entries) {
      const group = `${e.repositoryId}\0${e.hook}\0${e.scope}`;
      groups.set(group, [...(groups.get(group) ?? []), e]);
    }
    for (const group of groups.values()) {
      const sorted = [...group].sort(
        (a, b) => (b.lastUsed ?? b.created) - (a.lastUsed ?? a.created),
      );
      for (const e of sorted.slice(policy.keep))
        if (!inUse.has(e.imageId)) remove.set(e.imageId, e);
    }
  }
  if (policy.maxBytes !== undefined) {
    const left = entries.filter((e) => !remove.has(e.imageId));
    let total = left.reduce((sum, e) => sum + e.size, 0);
    const oldestFirst = [...left].sort(
      (a, b) => (a.lastUsed ?? a.created) - (b.lastUsed ?? b.created),
    );
    for (const e of oldestFirst) {
      if (total <= policy.maxBytes) break;
      if (inUse.has(e.imageId)) continue;
      remove.set(e.imageId, e);
      total -= e.size;
    }
  }
  return [...remove.values()];
}
