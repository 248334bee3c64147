import { availableParallelism, totalmem } from "node:os";
import { z } from "zod";
import { parseBytes } from "../../src/core/duration.js";
import { PermanentError } from "../../src/core/errors.js";
import type { PipelineSettings } from "./settings.js";

const bytes = z
  .string()
  .refine((v) => parseBytes(v) !== undefined, 'expected a size such as "512m" or "2g"');
const flag = z.enum(["true", "false", "1", "0"]);

const envSchema = z.object({
  KOZMIC_DEFAULT_MEMORY: bytes.default("2g"),
  KOZMIC_DEFAULT_CPUS: z.coerce.number().positive().max(1024).default(2),
  KOZMIC_DEFAULT_PIDS: z.coerce.number().int().positive().default(1024),
  KOZMIC_MAX_MEMORY: bytes.optional(),
  KOZMIC_MAX_CPUS: z.coerce.number().positive().max(1024).optional(),
  KOZMIC_NETWORK: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
      "expected a Docker network name such as none, host or bridge",
    )
    .default("none"),
  KOZMIC_ALLOW_HOST_NETWORK: flag.default("false"),
  KOZMIC_NO_NEW_PRIVILEGES: flag.default("false"),
  KOZMIC_DOCKER_RUNTIME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "expected a Docker runtime name such as runc or runsc")
    .optional(),
  KOZMIC_CACHE_KEEP: z.coerce.number().int().min(1).default(3),
  KOZMIC_CACHE_MAX_BYTES: bytes.optional(),
  KOZMIC_DATA_DIR: z.string().min(1).default("./.kozmic"),
});

const isOn = (value: string) => value === "true" || value === "1";

/**
 * Reads the pipeline settings from KOZMIC_* variables; a bad one is named in the error.
 * The ceilings default to this machine's memory and CPU count, and the defaults never
 * exceed the ceilings.
 */
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
  const maxMemoryBytes = e.KOZMIC_MAX_MEMORY ? parseBytes(e.KOZMIC_MAX_MEMORY)! : totalmem();
  const maxCpus = e.KOZMIC_MAX_CPUS ?? availableParallelism();
  return {
    defaultMemoryBytes: Math.min(parseBytes(e.KOZMIC_DEFAULT_MEMORY)!, maxMemoryBytes),
    defaultCpus: Math.min(e.KOZMIC_DEFAULT_CPUS, maxCpus),
    defaultPids: e.KOZMIC_DEFAULT_PIDS,
    maxMemoryBytes,
    maxCpus,
    network: e.KOZMIC_NETWORK,
    allowHostNetwork: isOn(e.KOZMIC_ALLOW_HOST_NETWORK),
    noNewPrivileges: isOn(e.KOZMIC_NO_NEW_PRIVILEGES),
    ...(e.KOZMIC_DOCKER_RUNTIME ? { runtime: e.KOZMIC_DOCKER_RUNTIME } : {}),
    cacheKeep: e.KOZMIC_CACHE_KEEP,
    ...(e.KOZMIC_CACHE_MAX_BYTES ? { cacheMaxBytes: parseBytes(e.KOZMIC_CACHE_MAX_BYTES)! } : {}),
    dataDir: e.KOZMIC_DATA_DIR,
  };
}
