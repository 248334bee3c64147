import { createReadStream } from "node:fs";
import { lstat, readdir, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { isArtifactKey, type ArtifactEntry, type ArtifactStore } from "./artifact-port.js";
import { PARTIAL_PREFIX, writeFileUnder } from "./write-file-under.js";

/** Artifacts listed per job at most: what the collector keeps (collect-artifacts.ts). */
export const MAX_LISTED = 1000;

/**
 * Artifacts as files under `<dataDir>/artifacts/<jobId>/<name>` (directories 0700, files
 * 0600). `sweep` removes a job's artifacts `retentionDays` after they were last written,
 * as log chunks expire.
 */
export class EmbeddedArtifacts implements ArtifactStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = join(dataDir, "artifacts");
  }

  async put(jobId: string, name: string, body: Readable, size: number): Promise<void> {
    if (!isArtifactKey(jobId, name))
      throw new Error(`not an artifact name: ${JSON.stringify(name)}`);
    await writeFileUnder(join(this.root, jobId), name, body, size, { dir: 0o700, file: 0o600 });
  }

  async list(jobId: string): Promise<ArtifactEntry[]> {
    if (!isArtifactKey(jobId, "x")) return [];
    const dir = join(this.root, jobId);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return [];
        throw error;
      },
    );
    const files: ArtifactEntry[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith(PARTIAL_PREFIX)) continue;
      const full = join(entry.parentPath, entry.name);
      const info = await stat(full).catch(() => undefined);
      if (!info) continue; // swept meanwhile
      files.push({ name: relative(dir, full).split(sep).join("/"), size: info.size });
      if (files.length >= MAX_LISTED) break;
    }
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(jobId: string, name: string): Promise<{ size: number; body: Readable } | undefined> {
    if (!isArtifactKey(jobId, name) || name.split("/").pop()!.startsWith(PARTIAL_PREFIX))
      return undefined;
    const file = join(this.root, jobId, ...name.split("/"));
    // Only what put wrote: a regular file, never a link.
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return { size: info.size, body: createReadStream(file) };
  }

  /** Removes the artifacts of jobs last written more than `retentionDays` before `nowMs`. */
  async sweep(retentionDays: number, nowMs = Date.now()): Promise<number> {
    const cutoff = nowMs - retentionDays * 86_400_000;
    const jobs = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const jobId of jobs) {
      const dir = join(this.root, jobId);
      const info = await lstat(dir).catch(() => undefined);
      if (!info || info.mtimeMs > cutoff) continue;
      await rm(dir, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
