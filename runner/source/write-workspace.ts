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
import { join } from "node:path";
import { PermanentError } from "../../src/core/errors.js";
import type { ExtraFile } from "./tar-directory.js";

/**
 * Writes a step's `/kozmic` as a new directory under `root`: the extra files (helper,
 * script, secrets) and a copy of `sourceDir` in `src/`, every entry owned by uid/gid. The
 * same tree tarDirectory packs, written where a bind mount gives it to the container: no
 * archive upload. It is a copy, so nothing the job writes reaches the checkout. Device
 * files, sockets and FIFOs are refused. Needs root (it gives files to another user).
 */
export async function writeWorkspace(
  root: string,
  options: { sourceDir: string; uid: number; gid: number; extra: ExtraFile[] },
): Promise<string> {
  const { uid, gid } = options;
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(root, "step-"));
  const own = async (path: string, mode: number) => {
    await chmod(path, mode); // the umask is not the tree's business
    await lchown(path, uid, gid);
  };
  try {
    await own(dir, 0o755);
    await fill(dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

async function fill(
  dir: string,
  options: { sourceDir: string; uid: number; gid: number; extra: ExtraFile[] },
): Promise<void> {
  const { uid, gid } = options;
  const own = async (path: string, mode: number) => {
    await chmod(path, mode);
    await lchown(path, uid, gid);
  };
  for (const extra of options.extra) {
    const path = join(dir, extra.path);
    if (extra.type === "directory") await mkdir(path);
    else await writeFile(path, extra.content, { flag: "wx" });
    await own(path, extra.mode);
  }
  const src = join(dir, "src");
  await mkdir(src);
  await own(src, 0o755);
  await copyTree(options.sourceDir, src, "", uid, gid);
}

async function copyTree(
  from: string,
  to: string,
  rel: string,
  uid: number,
  gid: number,
): Promise<void> {
  const names = await readdir(from);
  // A directory's entries in parallel: copyFile runs on libuv's pool, which bounds open files.
  await Promise.all(
    names.map(async (name) => {
      const source = join(from, name);
      const target = join(to, name);
      const stats = await lstat(source);
      const mode = stats.mode & 0o7777;
      if (stats.isDirectory()) {
        await mkdir(target);
        await copyTree(source, target, `${rel}${name}/`, uid, gid);
        await chmod(target, mode);
      } else if (stats.isSymbolicLink()) {
        await symlink(await readlink(source), target);
      } else if (stats.isFile()) {
        await copyFile(source, target, constants.COPYFILE_FICLONE);
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
