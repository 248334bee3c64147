import { createHash } from "node:crypto";

/** Bumped whenever the encoding or the meaning of an input changes, so old images miss. */
export const CACHE_KEY_FORMAT = 1;

export type TrustScope = "trusted" | "untrusted";

export interface TrackedFileDigest {
  /** Path relative to the repository root, with `/` separators. */
  path: string;
  /** sha256 hex of the content, or "missing". */
  digest: string;
}

export interface CacheKeyInput {
  baseImageId: string;
  installScript: string;
  trackedFiles: readonly TrackedFileDigest[];
  repositoryId: string;
  scope: TrustScope;
  /**
   * Untrusted installs only, and required for them: whose they are (cacheFork), so that one
   * fork's install is never another fork's cache hit.
   */
  fork?: string;
}

/**
 * The install cache key: sha256 hex over a JSON array in a fixed order. JSON string
 * escaping makes the encoding unambiguous (no input can spill into the next one), and
 * tracked files are sorted by path so the order they were found in does not matter.
 */
export function computeCacheKey(input: CacheKeyInput): string {
  if (input.scope === "untrusted" && !input.fork)
    throw new Error("an untrusted key needs its fork");
  const files = [...input.trackedFiles]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => [f.path, f.digest]);
  const canonical = JSON.stringify([
    CACHE_KEY_FORMAT,
    input.baseImageId,
    input.installScript,
    files,
    input.repositoryId,
    // Trusted keys are as they were before forks had their own.
    input.scope === "untrusted" ? `untrusted:${input.fork}` : input.scope,
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
