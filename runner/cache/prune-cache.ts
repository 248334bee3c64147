import type { Engine } from "../engine/port.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { listCache, type CacheEntry } from "./list-cache.js";

/**
 * Removes cache images beyond the policy (by default the settings' keep count and byte
 * budget); `only` limits the keep rule to one repository + hook. Images used by any
 * container on the host, and the `busy` ones (being pushed to the fleet cache), are left
 * alone. `only` may also be a test of each entry (for example: used by this runner).
 */
export async function pruneCache(
  engine: Engine,
  settings: Pick<PipelineSettings, "dataDir" | "cacheKeep" | "cacheMaxBytes">,
  only?: { repositoryId: string; hook: string } | ((entry: CacheEntry) => boolean),
  policy: PrunePolicy = {
    keep: settings.cacheKeep,
    ...(settings.cacheMaxBytes !== undefined ? { maxBytes: settings.cacheMaxBytes } : {}),
  },
  busy: ReadonlySet<string> = new Set(),
): Promise<CacheEntry[]> {
  const entries = await listCache(engine, settings.dataDir);
  const inUse = new Set([...(await engine.listContainers({})).map((c) => c.imageId), ...busy]);
  const scoped =
    typeof only === "function"
      ? entries.filter(only)
      : only
        ? entries.filter((e) => e.repositoryId === only.repositoryId && e.hook === only.hook)
        : entries;
  const removed = [
    ...planPrune(scoped, { ...(policy.keep !== undefined ? { keep: policy.keep } : {}) }, inUse),
    ...(policy.maxBytes !== undefined
      ? planPrune(entries, { maxBytes: policy.maxBytes }, inUse)
      : []),
  ];
  const unique = [...new Map(removed.map((e) => [e.imageId, e])).values()];
  for (const e of unique) await engine.removeImage(e.imageId);
  return unique;
}

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
