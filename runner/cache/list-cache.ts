import type { Engine } from "../engine/port.js";
import { CACHE_LABELS } from "./cache-images.js";
import { readCacheUsage } from "./cache-usage.js";

export interface CacheEntry {
  imageId: string;
  key: string;
  repositoryId: string;
  hook: string;
  scope: string;
  size: number;
  created: number;
  lastUsed?: number;
}

/** Every cache image on the host, newest first. */
export async function listCache(engine: Engine, dataDir: string): Promise<CacheEntry[]> {
  const [images, usage] = await Promise.all([
    engine.findImages({ [CACHE_LABELS.managed]: "true" }),
    readCacheUsage(dataDir),
  ]);
  return images
    .map((image) => ({
      imageId: image.id,
      key: image.labels[CACHE_LABELS.key] ?? "",
      repositoryId: image.labels[CACHE_LABELS.repo] ?? "",
      hook: image.labels[CACHE_LABELS.hook] ?? "",
      scope: image.labels[CACHE_LABELS.scope] ?? "",
      size: image.size,
      created: Date.parse(image.labels[CACHE_LABELS.created] ?? "") || image.created,
      ...(usage[image.id] !== undefined ? { lastUsed: usage[image.id] } : {}),
    }))
    .sort((a, b) => b.created - a.created);
}
