import { readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withKeyLock } from "../pipeline/key-lock.js";

const MARKER = "kozmic-last-used";

/** Records that a job used the mirror now; called while holding the mirror's lock. */
export async function markMirrorUsed(mirror: string, now = Date.now()): Promise<void> {
  const marker = join(mirror, MARKER);
  await writeFile(marker, "");
  await utimes(marker, now / 1000, now / 1000);
}

async function lastUsed(mirror: string): Promise<number> {
  const marked = await stat(join(mirror, MARKER)).catch(() => undefined);
  // Mirrors made before the marker existed: the directory's own time.
  return (marked ?? (await stat(mirror))).mtimeMs;
}

/**
 * Removes the git mirrors no job has used for `maxAgeMs`, each under its mirror's lock
 * and checked again there, so a job fetching into one meanwhile keeps it. Returns the
 * repository ids of the removed mirrors.
 */
export async function pruneMirrors(
  dataDir: string,
  maxAgeMs: number,
  now = Date.now(),
): Promise<string[]> {
  const dir = join(dataDir, "mirrors");
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.endsWith(".git")) continue;
    const id = entry.name.slice(0, -".git".length);
    const mirror = join(dir, entry.name);
    if (now - (await lastUsed(mirror)) <= maxAgeMs) continue;
    const gone = await withKeyLock(dataDir, `mirror-${id}`, async () => {
      if (now - (await lastUsed(mirror).catch(() => now)) <= maxAgeMs) return false;
      await rm(mirror, { recursive: true, force: true });
      return true;
    });
    if (gone) removed.push(id);
  }
  return removed;
}
