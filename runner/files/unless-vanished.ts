/**
 * `work`'s result, or undefined when what it reads is gone (ENOENT): a working tree may
 * change while a step copies it (an editor's temporary file, a watcher's output), and a
 * file removed between the directory's listing and its copy is left out, as if listed a
 * moment later. Any other error is thrown.
 */
export async function unlessVanished<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
