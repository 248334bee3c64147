import type { Engine } from "../engine/port.js";
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
    engine.findImages({ "kozmic.cache": "true" }),
    readCacheUsage(dataDir),
  ]);
  return images
    .map((image) => ({
      imageId: image.id,
      key: image.labels["kozmic.cache.key"] ?? "",
      repositoryId: image.labels["kozmic.cache.repo"] ?? "",
      hook: image.labels["kozmic.cache.hook"] ?? "",
      scope: image.labels["kozmic.cache.scope"] ?? "",
      size: image.size,
      created: Date.parse(image.labels["kozmic.cache.created"] ?? "") || image.created,
      ...(usage[image.id] !== undefined ? { lastUsed: usage[image.id] } : {}),
    }))
    .sort((a, b) => b.created - a.created);
}
