import type { RunnerSettings } from "../../src/core/runner-settings.js";
import type { CacheEntry } from "../cache/list-cache.js";
import { pruneCache } from "../cache/prune-cache.js";
import type { Engine } from "../engine/port.js";
import { pruneMirrors } from "../source/prune-mirrors.js";
import type { LineLog } from "./worker-context.js";

/** A git mirror unused this long is fair to remove when the disk is short of space. */
export const SHORT_OF_SPACE_MIRROR_AGE_MS = 3600_000;

/**
 * What a runner removes of its own before it stops taking jobs for a full disk: install
 * cache images it used beyond the newest of each repository, hook and scope (the ones a
 * next job would start from stay), and git mirrors no job used for an hour (the next job of such a
 * repository clones it again). Images in use by a container are never removed.
 */
export async function freeDiskSpace(
  engine: Engine,
  settings: RunnerSettings,
  log: LineLog,
): Promise<void> {
  // Only images this runner used (their use is recorded in its data directory): another
  // runner on the same engine keeps its own.
  const usedHere = (entry: CacheEntry) => entry.lastUsed !== undefined;
  const images = await pruneCache(engine, settings.pipeline, usedHere, { keep: 1 }).catch(
    (error: unknown) => {
      log(`could not prune the install cache: ${(error as Error).message}`, "warn");
      return [];
    },
  );
  const mirrors = await pruneMirrors(settings.pipeline.dataDir, SHORT_OF_SPACE_MIRROR_AGE_MS);
  const mib = Math.round(images.reduce((sum, e) => sum + e.size, 0) / 1024 ** 2);
  log(
    `disk short of space: removed ${images.length} older install cache image(s) (${mib} MiB) ` +
      `and ${mirrors.length} git mirror(s) unused for an hour`,
  );
}
