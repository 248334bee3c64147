import type { Env } from "./settings-group.js";

/** KOZMIC_DATA_DIR when it is unset or blank. */
export const DEFAULT_DATA_DIR = "./.kozmic";

/**
 * The data directory as the settings will read it, for code that runs before them (or
 * without zod): KOZMIC_DATA_DIR unless unset or blank, as in withoutBlanks.
 */
export function dataDirFromEnv(env: Env): string {
  const dir = env.KOZMIC_DATA_DIR;
  return dir !== undefined && dir.trim() !== "" ? dir : DEFAULT_DATA_DIR;
}
