import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import { pack, type Pack } from "tar-stream";
import { PermanentError } from "../../src/core/errors.js";
import type { ExtraFile, StepFiles } from "../engine/port.js";
import { unlessVanished } from "../files/unless-vanished.js";

/**
 * Packs `dir` (including `.git`) under `prefix` in a tar stream: regular files with their
 * modes, directories, symlinks as symlinks. Device files, sockets and FIFOs are refused.
 * Every entry is owned by uid/gid, so the script user can write to its tree.
 */
export async function tarDirectory(
  dir: string,
  options: {
    prefix: string;
    uid: number;
    gid: number;
    extra?: ExtraFile[];
    /** Absolute paths inside `dir` left out (Kozmic's data directory). */
    exclude?: readonly string[];
  },
): Promise<Pack> {
  const entries: { name: string; full: string }[] = [];
  const skip = new Set((options.exclude ?? []).map((path) => resolve(path)));
  const root = resolve(dir);
  async function walk(relative: string): Promise<void> {
    // The root must be there; a directory below it may go while it is packed.
    const listed = relative
      ? await unlessVanished(readdir(join(root, relative)))
      : await readdir(root);
    const names = (listed ?? []).filter((name) => !skip.has(join(root, relative, name))).sort();
    for (const name of names) {
      const rel = relative ? `${relative}/${name}` : name;
      const stats = await unlessVanished(lstat(join(dir, rel)));
      if (!stats) continue;
      entries.push({ name: rel, full: join(dir, rel) });
      if (stats.isDirectory()) await walk(rel);
    }
  }
  await walk("");
  const tar = pack();
  const owner = { uid: options.uid, gid: options.gid };
  const add = (header: Parameters<typeof tar.entry>[0], body?: Buffer | string) =>
    new Promise<void>((resolve, reject) =>
      tar.entry({ ...owner, ...header }, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  void (async () => {
    try {
      await add({ name: options.prefix, type: "directory", mode: 0o755 });
      await add({ name: posix.join(options.prefix, "src"), type: "directory", mode: 0o755 });
      for (const extra of options.extra ?? []) {
        const name = posix.join(options.prefix, extra.path);
        if (extra.type === "directory") await add({ name, type: "directory", mode: extra.mode });
        else await add({ name, mode: extra.mode }, extra.content);
      }
      for (const entry of entries) {
        const stats = await unlessVanished(lstat(entry.full));
        if (!stats) continue;
        const name = posix.join(options.prefix, "src", entry.name);
        const mode = stats.mode & 0o7777;
        if (stats.isDirectory()) await add({ name, type: "directory", mode });
        else if (stats.isSymbolicLink()) {
          const linkname = await unlessVanished(readlink(entry.full));
          if (linkname !== undefined) await add({ name, type: "symlink", linkname, mode });
        } else if (stats.isFile()) {
          const content = await unlessVanished(readFile(entry.full));
          if (content !== undefined) await add({ name, mode }, content);
        } else
          throw new PermanentError(
            `cannot pack ${entry.name}: not a regular file, directory or symlink`,
          );
      }
      tar.finalize();
    } catch (error) {
      tar.destroy(error as Error);
    }
  })();
  return tar;
}

/** A step's `/kozmic` as an archive: the source at `kozmic/src` and the extra files. */
export function packStepFiles(files: StepFiles): Promise<Pack> {
  return tarDirectory(files.sourceDir, { ...files, prefix: "kozmic" });
}
