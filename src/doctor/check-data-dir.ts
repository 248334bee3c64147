import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ok, problem, type CheckResult } from "./check-result.js";

/** On embedded defaults: KOZMIC_DATA_DIR is a directory this user may write, or can be made. */
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
    return ok(
      "data directory",
      dir === path ? `${what} is writable` : `${what} does not exist yet and can be created`,
    );
  }
}
