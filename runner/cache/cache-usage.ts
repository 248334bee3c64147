import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomically } from "../files/write-file-atomically.js";

/**
 * Docker images cannot carry a changing label, so the last use of each cache image lives
 * in `<dataDir>/cache-usage.json` ({ imageId: epoch ms }). Best effort: a lost update
 * only makes an image look older to the pruner.
 */
function usageFile(dataDir: string): string {
  return join(dataDir, "cache-usage.json");
}

export async function readCacheUsage(dataDir: string): Promise<Record<string, number>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(usageFile(dataDir), "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

export async function recordCacheUse(
  dataDir: string,
  imageId: string,
  at = Date.now(),
): Promise<void> {
  const usage = await readCacheUsage(dataDir);
  usage[imageId] = at;
  await writeFileAtomically(usageFile(dataDir), JSON.stringify(usage));
}
