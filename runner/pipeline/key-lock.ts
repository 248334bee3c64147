import { readFileSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "../files/process-alive.js";

const inProcess = new Map<string, Promise<void>>();

/** This boot of the host: a lock written before a reboot is stale even if its pid is reused. */
function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}
const BOOT_ID = readBootId();

/** What a lock file of this process holds: `<pid> <boot id>`, which isLockStale reads. */
export const LOCK_HOLDER = `${process.pid} ${BOOT_ID}`;

/** A lock file's holder: `<pid> <boot id>`, or a bare pid from an older Kozmic. */
export function isLockStale(content: string, bootId = BOOT_ID): boolean {
  const [pidText, lockBoot] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!(pid > 0)) return false; // being written right now: wait for it
  if (lockBoot !== undefined && bootId !== "" && lockBoot !== bootId) return true;
  return !processAlive(pid);
}

/**
 * Runs `action` while holding the lock for `key`: a promise chain within the process, and
 * a lock file `<dataDir>/locks/<key>.lock` (created with O_EXCL, holding the pid and the
 * boot id) across processes on one host. A lock file whose process is gone, or that was
 * written before the host rebooted, is taken over.
 */
export async function withKeyLock<T>(
  dataDir: string,
  key: string,
  action: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const dir = join(dataDir, "locks");
  const file = join(dir, `${key}.lock`);
  // Chained by lock file, not by key: two runners in one process (each with its own data
  // dir, as in the fleet tests) are two hosts and must not queue behind each other.
  const previous = inProcess.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  inProcess.set(file, chained);
  try {
    await previous;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (;;) {
      signal?.throwIfAborted();
      try {
        const handle = await open(file, "wx");
        await handle.writeFile(LOCK_HOLDER);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        if (isLockStale(await readFile(file, "utf8").catch(() => "")))
          await rm(file, { force: true });
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
    if (inProcess.get(file) === chained) inProcess.delete(file);
  }
}
