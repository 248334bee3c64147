import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import type { Engine } from "../engine/port.js";
import { writeFileAtomically } from "../files/write-file-atomically.js";
import {
  resolveScriptUser,
  scriptUserWithoutPasswd,
  type ScriptUser,
} from "./resolve-script-user.js";

/** What a step needs from an image to choose its script's user. */
export interface ImageUsers {
  /** The image's /etc/passwd; undefined when it has none. */
  passwd: string | undefined;
  /** The image's USER; undefined when unset. */
  imageUser: string | undefined;
}

// Only IDs name a file here: a name could be anything, and point elsewhere tomorrow.
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
const remembered = new Map<string, ImageUsers>();

function fileOf(dataDir: string, imageId: string): string {
  return join(dataDir, "image-users", `${imageId.slice("sha256:".length)}.json`);
}

/** Written with null for "none", so a missing key means a damaged file. */
const StoredUsers = z.object({ passwd: z.string().nullable(), imageUser: z.string().nullable() });

function parse(text: string): ImageUsers | undefined {
  try {
    const { passwd, imageUser } = StoredUsers.parse(JSON.parse(text));
    return { passwd: passwd ?? undefined, imageUser: imageUser ?? undefined };
  } catch {
    return undefined;
  }
}

/**
 * An image's users as read before, by this process or an earlier one (each `kozmic run` is
 * a new process). Image IDs are content addresses, so the answer for an ID never changes;
 * a name is never looked up here. A damaged file reads as unknown and is read again.
 */
export async function knownImageUsers(
  dataDir: string | undefined,
  imageId: string,
): Promise<ImageUsers | undefined> {
  if (!IMAGE_ID.test(imageId)) return undefined;
  const inMemory = remembered.get(imageId);
  if (inMemory || !dataDir) return inMemory;
  const found = await readFile(fileOf(dataDir, imageId), "utf8").then(parse, () => undefined);
  if (found) remembered.set(imageId, found);
  return found;
}

/** Keeps what was read from an image, in memory and (best effort) under the data directory. */
export async function rememberImageUsers(
  dataDir: string | undefined,
  imageId: string,
  users: ImageUsers,
): Promise<void> {
  if (!IMAGE_ID.test(imageId)) return;
  remembered.set(imageId, users);
  if (!dataDir) return;
  try {
    await writeFileAtomically(
      fileOf(dataDir, imageId),
      JSON.stringify({ passwd: users.passwd ?? null, imageUser: users.imageUser ?? null }),
    );
  } catch {
    // Only a speed-up: the next process reads the image again.
  }
}

/** Forgets what this process remembered (tests that count probe containers). */
export function forgetRememberedImageUsers(): void {
  remembered.clear();
}

/**
 * The user a step of `image` runs its script as: the hook's `user:` when it needs no
 * look-up, else from the image's /etc/passwd, read once per image ID (remembered above).
 */
export async function lookupScriptUser(
  engine: Engine,
  image: string,
  hookUser: string | undefined,
  options: { dataDir?: string; labels: Record<string, string> },
): Promise<ScriptUser> {
  const fixed = scriptUserWithoutPasswd(hookUser);
  if (fixed) return fixed;
  const known = await knownImageUsers(options.dataDir, image);
  if (known) return resolveScriptUser(known.passwd, known.imageUser, hookUser);
  const [info, passwd] = await Promise.all([
    engine.inspectImage(image),
    engine.readImageFile(image, "/etc/passwd", options.labels),
  ]);
  await rememberImageUsers(options.dataDir, image, { passwd, imageUser: info?.user });
  return resolveScriptUser(passwd, info?.user, hookUser);
}
