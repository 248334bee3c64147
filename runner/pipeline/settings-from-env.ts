import { z } from "zod";
import { parseBytes } from "../../src/core/duration.js";
import { PermanentError } from "../../src/core/errors.js";
import type { PipelineSettings } from "./settings.js";

const bytes = z
  .string()
  .refine((v) => parseBytes(v) !== undefined, 'expected a size such as "512m" or "2g"');

const envSchema = z.object({
  KOZMIC_DEFAULT_MEMORY: bytes.default("2g"),
  KOZMIC_DEFAULT_CPUS: z.coerce.number().positive().max(64).default(2),
  KOZMIC_DEFAULT_PIDS: z.coerce.number().int().positive().default(1024),
  KOZMIC_NETWORK: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
      "expected a Docker network name such as none, host or bridge",
    )
    .default("none"),
  KOZMIC_ALLOW_HOST_NETWORK: z.enum(["true", "false", "1", "0"]).default("false"),
  KOZMIC_CACHE_KEEP: z.coerce.number().int().min(1).default(3),
  KOZMIC_CACHE_MAX_BYTES: bytes.optional(),
  KOZMIC_DATA_DIR: z.string().min(1).default("./.kozmic"),
});

/** Reads the pipeline settings from KOZMIC_* variables; a bad one is named in the error. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): PipelineSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) =>
        `${issue.path.join(".")}=${JSON.stringify(env[String(issue.path[0])])}: ${issue.message}`,
    );
    throw new PermanentError(`invalid runner settings:\n  ${problems.join("\n  ")}`);
  }
  const e = parsed.data;
  return {
    defaultMemoryBytes: parseBytes(e.KOZMIC_DEFAULT_MEMORY)!,
    defaultCpus: e.KOZMIC_DEFAULT_CPUS,
    defaultPids: e.KOZMIC_DEFAULT_PIDS,
    network: e.KOZMIC_NETWORK,
    allowHostNetwork: e.KOZMIC_ALLOW_HOST_NETWORK === "true" || e.KOZMIC_ALLOW_HOST_NETWORK === "1",
    cacheKeep: e.KOZMIC_CACHE_KEEP,
    ...(e.KOZMIC_CACHE_MAX_BYTES ? { cacheMaxBytes: parseBytes(e.KOZMIC_CACHE_MAX_BYTES)! } : {}),
    dataDir: e.KOZMIC_DATA_DIR,
  };
}
