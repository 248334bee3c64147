import { constants } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Reads a regular file a container may have touched, from the host: never through a
 * symlink (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK), at most `maxBytes`.
 * Undefined when it is absent, not a regular file or larger.
 */
export async function readOwnFile(path: string, maxBytes: number): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > maxBytes) return undefined;
    const buffer = Buffer.alloc(stats.size);
    const { bytesRead } = await handle.read(buffer, 0, stats.size, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
