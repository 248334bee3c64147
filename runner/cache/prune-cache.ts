import type { Engine } from "../engine/port.js";
import type { PipelineSettings } from "../../src/core/pipeline-settings.js";
import { listCache, type CacheEntry } from "./list-cache.js";
import { planPrune, type PrunePolicy } from "./plan-prune.js";

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
