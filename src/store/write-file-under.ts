import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { exactly } from "./artifact-port.js";

/** The prefix of a file being written; listings pass over it. */
export const PARTIAL_PREFIX = ".kozmic-partial-";

/**
 * Writes `body` (exactly `size` bytes) to `root/name`, name a checked relative path, making
 * its directories: into a partial file first, renamed into place when whole, so a reader
 * never sees half a file and a failed write leaves nothing.
 */
export async function writeFileUnder(
  root: string,
  name: string,
  body: Readable,
  size: number,
  modes: { dir?: number; file?: number } = {},
): Promise<void> {
  const target = join(root, ...name.split("/"));
  await mkdir(dirname(target), { recursive: true, ...(modes.dir ? { mode: modes.dir } : {}) });
  const partial = join(dirname(target), `${PARTIAL_PREFIX}${randomBytes(6).toString("hex")}`);
  try {
    await pipeline(
      exactly(body, size),
      createWriteStream(partial, { flags: "wx", ...(modes.file ? { mode: modes.file } : {}) }),
    );
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
