import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomically } from "../files/write-file-atomically.js";
import type { Engine } from "../engine/port.js";
import { CACHE_LABELS } from "./cache-images.js";

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

/**
 * Docker images cannot carry a changing label, so the last use of each cache image lives
 * in `<dataDir>/cache-usage.json` ({ imageId: epoch ms }). Best effort: a lost update
 * only makes an image look older to the pruner.
 */
function usageFile(dataDir: string): string {
  return join(dataDir, "cache-usage.json");
}

export async function readCacheUsage(dataDir: string): Promise<Record<string, number>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(usageFile(dataDir), "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

export async function recordCacheUse(dataDir: string, imageId: string): Promise<void> {
  const usage = await readCacheUsage(dataDir);
  usage[imageId] = Date.now();
  await writeFileAtomically(usageFile(dataDir), JSON.stringify(usage));
}
