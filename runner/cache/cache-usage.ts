import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

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
  await mkdir(dataDir, { recursive: true });
  const usage = await readCacheUsage(dataDir);
  usage[imageId] = at;
  const temp = `${usageFile(dataDir)}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(temp, JSON.stringify(usage));
  await rename(temp, usageFile(dataDir));
}
