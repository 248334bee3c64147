import type { TrustScope } from "../../src/core/cache-key.js";
import { cacheInputsFromLabels, type CacheInputs } from "../../src/core/explain-cache-miss.js";
import type { CacheImageOperations } from "../../src/store/port.js";
import type { Engine, ImageInfo } from "../engine/port.js";

/** Where the pipeline records the images it commits, and checks them on every hit. */
export type CacheRecords = CacheImageOperations;

export const CACHE_LABELS = {
  managed: "kozmic.cache",
  repo: "kozmic.cache.repo",
  hook: "kozmic.cache.hook",
  key: "kozmic.cache.key",
  scope: "kozmic.cache.scope",
  /** Untrusted installs: the fork they belong to (JobInput.fork). */
  fork: "kozmic.cache.fork",
  created: "kozmic.cache.created",
} as const;

/** `kozmic-cache/<repo>`: a Docker repository name made from any repository id. */
export function cacheRepository(repositoryId: string): string {
  const safe = repositoryId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `kozmic-cache/${safe || "repo"}`;
}

/** Whether an image carries any of Kozmic's cache labels (so it must not be a base image). */
export function hasCacheLabels(image: ImageInfo): boolean {
  return Object.keys(image.labels).some(
    (label) => label === CACHE_LABELS.managed || label.startsWith(`${CACHE_LABELS.managed}.`),
  );
}

/**
 * Images with these labels that this Kozmic committed for exactly this repository, key or
 * hook, and scope, newest first. Labels alone prove nothing (anyone who can build or pull
 * an image can set them): each candidate must match its record in the store.
 * `onForged` hears of each labelled image without a matching record.
 */
async function recordedImages(
  engine: Engine,
  records: CacheRecords,
  labels: Record<string, string>,
  onForged?: (image: ImageInfo) => void,
): Promise<ImageInfo[]> {
  const made = (image: ImageInfo) =>
    Date.parse(image.labels[CACHE_LABELS.created] ?? "") || image.created;
  const candidates = (await engine.findImages(labels)).sort((a, b) => made(b) - made(a));
  const checked: ImageInfo[] = [];
  for (const image of candidates) {
    if (await isRecorded(records, image)) checked.push(image);
    else onForged?.(image);
  }
  return checked;
}

/** Whether the store holds this image's record, saying what its labels say. */
async function isRecorded(records: CacheRecords, image: ImageInfo): Promise<boolean> {
  const record = await records.getCacheImage(image.id);
  return (
    record !== undefined &&
    record.repositoryId === image.labels[CACHE_LABELS.repo] &&
    record.key === image.labels[CACHE_LABELS.key] &&
    record.scope === image.labels[CACHE_LABELS.scope] &&
    record.hook === image.labels[CACHE_LABELS.hook]
  );
}

export interface CacheLookup {
  repositoryId: string;
  key: string;
  scope: TrustScope;
}

/** The cached install for a key, if this Kozmic committed one. */
export async function findCacheImage(
  engine: Engine,
  records: CacheRecords,
  lookup: CacheLookup,
  onForged?: (image: ImageInfo) => void,
): Promise<ImageInfo | undefined> {
  const labels = {
    [CACHE_LABELS.repo]: lookup.repositoryId,
    [CACHE_LABELS.key]: lookup.key,
    [CACHE_LABELS.scope]: lookup.scope,
  };
  // The tag the commit gave it first: one inspect, where listing by label walks every image
  // on the host. The labels and the record decide, as for any candidate.
  const tagged = await engine.inspectImage(`${cacheRepository(lookup.repositoryId)}:${lookup.key}`);
  const labelled = (image: ImageInfo) =>
    Object.entries(labels).every(([label, value]) => image.labels[label] === value);
  if (tagged && labelled(tagged) && (await isRecorded(records, tagged))) return tagged;
  // Untagged, or its tag moved to an image that is not ours: by label.
  return (await recordedImages(engine, records, labels, onForged))[0];
}

/** What went into the newest cached install of a repository's hook in a scope (and fork), if any. */
export async function newestCacheInputs(
  engine: Engine,
  records: CacheRecords,
  of: { repositoryId: string; hook: string; scope: TrustScope; fork?: string },
): Promise<CacheInputs | undefined> {
  const images = await recordedImages(engine, records, {
    [CACHE_LABELS.repo]: of.repositoryId,
    [CACHE_LABELS.hook]: of.hook,
    [CACHE_LABELS.scope]: of.scope,
    // Another fork's install would tell this fork what that one's tracked files are.
    ...(of.fork ? { [CACHE_LABELS.fork]: of.fork } : {}),
  });
  for (const image of images) {
    const inputs = cacheInputsFromLabels(image.labels);
    if (inputs) return inputs;
  }
  return undefined;
}
