import { availableParallelism, totalmem } from "node:os";
import type { PipelineSettings } from "../../runner/pipeline/settings.js";
import type { Config } from "../core/config/schema.js";
import type { Env } from "../settings/settings-group.js";
import type { ParsedCache } from "./parsed-cache.js";

/**
 * `kozmic run`'s pipeline settings: from the cache when the KOZMIC_* variables and the
 * machine facts their defaults come from are those of a run before; else read (loading zod
 * and the schema) and kept. A SettingsError for bad variables, as readRunSettings gives.
 */
export async function cachedRunSettings(
  env: Env,
  cache: ParsedCache | undefined,
): Promise<PipelineSettings> {
  const input = JSON.stringify([
    Object.entries(env)
      .filter(([name]) => name.startsWith("KOZMIC_"))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
    availableParallelism(),
    totalmem(),
  ]);
  return keptOrParsed(cache, "settings", input, async () => {
    const { readRunSettings } = await import("../settings/pipeline-entry-points.js");
    return readRunSettings(env);
  });
}

/**
 * A `.github/kozmic.yml` text's configuration: from the cache when a run before validated
 * the same text; else parsed (loading the YAML parser, zod and the schema) and, when
 * valid, kept. A ConfigError for a broken file, as parseConfig gives.
 */
export async function cachedConfig(text: string, cache: ParsedCache | undefined): Promise<Config> {
  return keptOrParsed(cache, "config", text, async () => {
    const { parseConfig } = await import("../core/config/parse-config.js");
    return parseConfig(text);
  });
}

/** The kept value, or `parse`'s, kept for next time (a parse that throws keeps nothing). */
async function keptOrParsed<T>(
  cache: ParsedCache | undefined,
  kind: string,
  input: string,
  parse: () => Promise<T>,
): Promise<T> {
  const kept = cache?.get<T>(kind, input);
  if (kept !== undefined) return kept;
  const value = await parse();
  cache?.put(kind, input, value);
  return value;
}
