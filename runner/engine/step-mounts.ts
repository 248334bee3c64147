import { execFile } from "node:child_process";
import { readFile, realpath, rm } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Mounts a step's directory onto itself, `nosuid,nodev`: what container root writes there
 * (a setuid shell, a device node) is then inert on the host, and Docker's bind of it keeps
 * these flags in the container. Docker's bind mounts take no such options themselves.
 * Needs root, as binding step directories does.
 */
export async function mountNoSuid(dir: string): Promise<void> {
  await run("mount", ["--bind", "-o", "nosuid,nodev", dir, dir]);
}

/** Undoes mountNoSuid; a directory that is not mounted is not an error. */
export async function unmount(dir: string): Promise<void> {
  await run("umount", ["--lazy", dir]).catch(() => {});
}

/** Pure: the mount points at or below `root` in mountinfo's text, deepest first. */
export function mountPointsUnder(mountinfo: string, root: string): string[] {
  const points = mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter(
      (point): point is string => !!point && (point === root || point.startsWith(`${root}/`)),
    );
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Removes a tree of step directories, unmounting first (deepest first) what a killed
 * process left mounted there, so that its directories can be removed.
 */
export async function removeStepDirectories(root: string): Promise<void> {
  const real = await realpath(root).catch(() => undefined);
  if (real === undefined) return;
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  for (const point of mountPointsUnder(mountinfo, real)) await unmount(point);
  await rm(real, { recursive: true, force: true });
}
