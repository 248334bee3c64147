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
  /** A matrix job's combination: each combination installs apart (its install may read it). */
  matrix?: Readonly<Record<string, string>>;
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
  const matrix = Object.entries(input.matrix ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = JSON.stringify([
    CACHE_KEY_FORMAT,
    input.baseImageId,
    input.installScript,
    files,
    input.repositoryId,
    // Trusted keys are as they were before forks had their own.
    input.scope === "untrusted" ? `untrusted:${input.fork}` : input.scope,
    // Keys of jobs without a matrix are as they were before matrices.
    ...(matrix.length > 0 ? [matrix] : []),
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
