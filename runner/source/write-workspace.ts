import { constants } from "node:fs";
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join, resolve } from "node:path";
import { PermanentError } from "../../src/core/errors.js";
import { unlessVanished } from "../files/unless-vanished.js";
import type { StepFiles } from "../engine/port.js";

/*
 * A step's `/kozmic`, made in two halves so that its container can be created while the
 * files are written (Docker needs a bind mount's directory to exist, not its contents):
 * makeWorkspace makes the directory, fillWorkspace writes the extra files (helper, script,
 * secrets) and a copy of `sourceDir` in `src/`, every entry owned by uid/gid. The same tree
 * tarDirectory packs, written where a bind mount gives it to the container: no archive
 * upload. It is a copy, so nothing the job writes reaches the checkout. Device files,
 * sockets and FIFOs are refused. Needs root (it gives files to another user).
 */

/** A new, empty step directory under `root`, owned by uid/gid. */
export async function makeWorkspace(
  root: string,
  owner: { uid: number; gid: number },
): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  // Absolute: Docker mounts only absolute paths, and the data directory may be relative.
  const dir = await mkdtemp(join(resolve(root), "step-"));
  try {
    await chmod(dir, 0o755); // the umask is not the tree's business
    await lchown(dir, owner.uid, owner.gid);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/**
 * Writes the files into a directory makeWorkspace made. On failure the directory is left as
 * it is, for its maker to remove once nothing else writes there.
 */
export async function fillWorkspace(dir: string, options: StepFiles): Promise<void> {
  const { uid, gid } = options;
  const own = async (path: string, mode: number) => {
    await chmod(path, mode);
    await lchown(path, uid, gid);
  };
  // The extra files in order (a directory before what it holds), beside the source's copy.
  const extras = (async () => {
    for (const extra of options.extra) {
      const path = join(dir, extra.path);
      if (extra.type === "directory") await mkdir(path);
      else await writeFile(path, extra.content, { flag: "wx" });
      await own(path, extra.mode);
    }
  })();
  const source = (async () => {
    const src = join(dir, "src");
    await mkdir(src);
    await own(src, 0o755);
    const skip = new Set((options.exclude ?? []).map((path) => resolve(path)));
    await copyTree(resolve(options.sourceDir), src, "", { uid, gid, skip });
  })();
  // Both settled before a failure is told: the caller may remove the directory then.
  for (const result of await Promise.allSettled([extras, source]))
    if (result.status === "rejected") throw result.reason;
}

async function copyTree(
  from: string,
  to: string,
  rel: string,
  owner: { uid: number; gid: number; skip: ReadonlySet<string> },
): Promise<void> {
  const { uid, gid } = owner;
  // The tree's root must be there; a directory below it may go while it is copied.
  const listed = rel === "" ? await readdir(from) : await unlessVanished(readdir(from));
  const names = (listed ?? []).filter((name) => !owner.skip.has(join(from, name)));
  // A directory's entries in parallel: copyFile runs on libuv's pool, which bounds open files.
  await Promise.all(
    names.map(async (name) => {
      const source = join(from, name);
      const target = join(to, name);
      const stats = await unlessVanished(lstat(source));
      if (!stats) return;
      const mode = stats.mode & 0o7777;
      if (stats.isDirectory()) {
        await mkdir(target);
        await copyTree(source, target, `${rel}${name}/`, owner);
        await chmod(target, mode);
      } else if (stats.isSymbolicLink()) {
        const link = await unlessVanished(readlink(source));
        if (link === undefined) return;
        await symlink(link, target);
      } else if (stats.isFile()) {
        const copy = copyFile(source, target, constants.COPYFILE_FICLONE).then(() => true);
        if (!(await unlessVanished(copy))) return;
        await chmod(target, mode);
      } else {
        throw new PermanentError(
          `cannot pack ${rel}${name}: not a regular file, directory or symlink`,
        );
      }
      await lchown(target, uid, gid);
    }),
  );
}
