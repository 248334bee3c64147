import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

const inProcess = new Map<string, Promise<void>>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `action` while holding the lock for `key`: a promise chain within the process, and
 * a lock file `<dataDir>/locks/<key>.lock` (created with O_EXCL, holding the pid) across
 * processes on one host. A lock file whose process is gone is taken over.
 */
export async function withKeyLock<T>(
  dataDir: string,
  key: string,
  action: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const previous = inProcess.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  inProcess.set(key, chained);
  try {
    await previous;
    const dir = join(dataDir, "locks");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${key}.lock`);
    for (;;) {
      signal?.throwIfAborted();
      try {
        const handle = await open(file, "wx");
        await handle.writeFile(String(process.pid));
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const pid = Number(await readFile(file, "utf8").catch(() => ""));
        if (pid > 0 && !alive(pid)) await rm(file, { force: true });
        else await new Promise((r) => setTimeout(r, 200));
      }
    }
    try {
      return await action();
    } finally {
      await rm(file, { force: true });
    }
  } finally {
    release();
    if (inProcess.get(key) === chained) inProcess.delete(key);
  }
}
