import * as z from "zod";
import type { TrackedFileDigest } from "./cache-key.js";

/** What went into a cache key, kept on the cache image so a later miss can say what changed. */
export interface CacheInputs {
  baseImageId: string;
  /** The hook's `image:` as written, e.g. `python:3.12`. */
  baseImageRef: string;
  /** sha256 hex of the install script. */
  installDigest: string;
  trackedFiles: readonly TrackedFileDigest[];
}

const MAX_LISTED = 20;

/**
 * Why an install was not cached, in the user's words: the first run of the hook, or what
 * differs from the newest cached install of the same repository, hook and scope. Pure.
 */
export function explainCacheMiss(previous: CacheInputs | undefined, now: CacheInputs): string[] {
  if (!previous) return ["no cached install yet for this hook"];
  const reasons: string[] = [];
  if (previous.baseImageId !== now.baseImageId) {
    const tags =
      previous.baseImageRef === now.baseImageRef
        ? `${now.baseImageRef} now points to another image`
        : `image changed from ${previous.baseImageRef} to ${now.baseImageRef}`;
    reasons.push(`base image: ${tags} (${previous.baseImageId} → ${now.baseImageId})`);
  }
  if (previous.installDigest !== now.installDigest) reasons.push("the install script changed");
  const before = new Map(previous.trackedFiles.map((f) => [f.path, f.digest]));
  const after = new Map(now.trackedFiles.map((f) => [f.path, f.digest]));
  const files: string[] = [];
  for (const [path, digest] of after) {
    const old = before.get(path);
    const wasThere = old !== undefined && old !== "missing";
    const isThere = digest !== "missing";
    if (!wasThere && isThere) files.push(`tracked file appeared: ${path}`);
    else if (wasThere && !isThere) files.push(`tracked file disappeared: ${path}`);
    else if (wasThere && old !== digest) files.push(`tracked file changed: ${path}`);
  }
  for (const [path, digest] of before) {
    if (!after.has(path) && digest !== "missing") files.push(`tracked file disappeared: ${path}`);
  }
  files.sort();
  reasons.push(...files.slice(0, MAX_LISTED));
  if (files.length > MAX_LISTED)
    reasons.push(`and ${files.length - MAX_LISTED} more tracked files`);
  if (reasons.length === 0) {
    reasons.push("the cache key's format changed since the cached install was made");
  }
  return reasons;
}

/** The labels that carry CacheInputs on a cache image. */
export const CACHE_INPUT_LABELS = {
  base: "kozmic.cache.base",
  baseRef: "kozmic.cache.base-ref",
  install: "kozmic.cache.install",
  files: "kozmic.cache.files",
} as const;

export function cacheInputLabels(inputs: CacheInputs): Record<string, string> {
  return {
    [CACHE_INPUT_LABELS.base]: inputs.baseImageId,
    [CACHE_INPUT_LABELS.baseRef]: inputs.baseImageRef,
    [CACHE_INPUT_LABELS.install]: inputs.installDigest,
    [CACHE_INPUT_LABELS.files]: JSON.stringify(inputs.trackedFiles.map((f) => [f.path, f.digest])),
  };
}

/** The tracked files' label: `[path, digest]` pairs. */
const FILES_LABEL = z.array(z.tuple([z.string(), z.string()]));

/** CacheInputs read back from labels; undefined when an image predates them or they are bad. */
export function cacheInputsFromLabels(labels: Record<string, string>): CacheInputs | undefined {
  const base = labels[CACHE_INPUT_LABELS.base];
  const baseRef = labels[CACHE_INPUT_LABELS.baseRef];
  const install = labels[CACHE_INPUT_LABELS.install];
  const files = labels[CACHE_INPUT_LABELS.files];
  if (!base || baseRef === undefined || !install || files === undefined) return undefined;
  let parsed;
  try {
    parsed = FILES_LABEL.safeParse(JSON.parse(files));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  return {
    baseImageId: base,
    baseImageRef: baseRef,
    installDigest: install,
    trackedFiles: parsed.data.map(([path, digest]) => ({ path, digest })),
  };
}
