import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ok, problem, type CheckResult } from "./check-result.js";

/** What in the data directory holds logs, secrets and the App's key: this user's alone. */
const PRIVATE = ["", "kozmic.db", "kozmic.db-wal", "kozmic.db-shm", ".env"];

/**
 * On embedded defaults: KOZMIC_DATA_DIR is a directory this user may write, or can be made,
 * and no other user may read it or its database.
 */
export async function checkDataDir(dataDir: string): Promise<CheckResult> {
  const path = resolve(dataDir);
  const what = `KOZMIC_DATA_DIR ${path} (embedded queue and store)`;
  for (let dir = path; ; dir = dirname(dir)) {
    let isDirectory;
    try {
      isDirectory = (await stat(dir)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dir === dirname(dir)) {
        return problem("data directory", `${what}: ${(error as Error).message}`);
      }
      continue;
    }
    if (!isDirectory) {
      return problem(
        "data directory",
        `${what}: ${dir} is a file, not a directory: set KOZMIC_DATA_DIR to a directory`,
      );
    }
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch {
      return problem(
        "data directory",
        `${what}: this user may not write to ${dir}: change its owner or set KOZMIC_DATA_DIR elsewhere`,
      );
    }
    if (dir !== path) return ok("data directory", `${what} does not exist yet and can be created`);
    const exposed = await readableByOthers(path);
    if (exposed.length > 0) {
      return problem(
        "data directory",
        `${what}: other users may reach ${exposed.join(", ")} (private logs and secrets): ` +
          `run chmod -R go= ${path}`,
      );
    }
    return ok("data directory", `${what} is writable and this user's alone`);
  }
}

async function readableByOthers(dir: string): Promise<string[]> {
  const exposed: string[] = [];
  for (const name of PRIVATE) {
    const path = join(dir, name);
    const mode = await stat(path).then(
      (s) => s.mode,
      () => 0,
    );
    if ((mode & 0o077) !== 0) exposed.push(`${path} (${(mode & 0o777).toString(8)})`);
  }
  return exposed;
}
