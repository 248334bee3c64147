import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What a step needs from an image to choose its script's user. */
export interface ImageUsers {
  /** The image's /etc/passwd; undefined when it has none. */
  passwd: string | undefined;
  /** The image's USER; undefined when unset. */
  imageUser: string | undefined;
}

const IMAGE_ID = /^sha256:([0-9a-f]{64})$/;
const remembered = new Map<string, ImageUsers>();

function fileOf(dataDir: string, imageId: string): string | undefined {
  const hex = IMAGE_ID.exec(imageId)?.[1];
  return hex ? join(dataDir, "image-users", `${hex}.json`) : undefined;
}

function parse(text: string): ImageUsers | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
    const { passwd, imageUser } = value as Record<string, unknown>;
    // Written with null for "none", so a missing key means a damaged file.
    const stringOrNull = (v: unknown) => v === null || typeof v === "string";
    if (!stringOrNull(passwd) || !stringOrNull(imageUser)) return undefined;
    return { passwd: passwd ?? undefined, imageUser: imageUser ?? undefined } as ImageUsers;
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
  let text: string;
  try {
    text = await readFile(fileOf(dataDir, imageId)!, "utf8");
  } catch {
    return undefined;
  }
  const found = parse(text);
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
  const file = fileOf(dataDir, imageId)!;
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    await mkdir(join(dataDir, "image-users"), { recursive: true });
    await writeFile(
      temp,
      JSON.stringify({ passwd: users.passwd ?? null, imageUser: users.imageUser ?? null }),
    );
    await rename(temp, file);
  } catch {
    // Only a speed-up: the next process reads the image again.
  }
}

/** Forgets what this process remembered (tests that count probe containers). */
export function forgetRememberedImageUsers(): void {
  remembered.clear();
}
