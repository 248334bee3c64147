import { availableParallelism, totalmem } from "node:os";
import * as z from "zod";
import type { PipelineSettings } from "../core/pipeline-settings.js";
import { parseCacheRegistry, type CacheRegistry } from "../core/cache-registry.js";
import { flagVar, patternVar, positiveNumberVar, sizeVar, wholeNumberVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import { KOZMIC_DATA_DIR } from "./shared-variables.js";

const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `host[:port]/repository` of the fleet's install cache, checked by parseCacheRegistry. */
const cacheRegistryVar = z
  .string()
  .optional()
  .transform((value, ctx): CacheRegistry | undefined => {
    if (value === undefined) return undefined;
    try {
      return parseCacheRegistry(value.trim());
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `KOZMIC_CACHE_REGISTRY: ${(error as Error).message}, got "${value}"`,
      });
      return z.NEVER;
    }
  });

const schema = z
  .object({
    KOZMIC_DEFAULT_MEMORY: sizeVar("KOZMIC_DEFAULT_MEMORY"),
    KOZMIC_DEFAULT_CPUS: positiveNumberVar("KOZMIC_DEFAULT_CPUS", 1024),
    KOZMIC_DEFAULT_PIDS: wholeNumberVar("KOZMIC_DEFAULT_PIDS", 1, 4_194_304),
    KOZMIC_MAX_MEMORY: sizeVar("KOZMIC_MAX_MEMORY"),
    KOZMIC_MAX_CPUS: positiveNumberVar("KOZMIC_MAX_CPUS", 1024),
    KOZMIC_NETWORK: patternVar(
      "KOZMIC_NETWORK",
      DOCKER_NAME,
      "a Docker network name such as none, host or bridge",
    ),
    KOZMIC_ALLOW_HOST_NETWORK: flagVar("KOZMIC_ALLOW_HOST_NETWORK"),
    KOZMIC_NO_NEW_PRIVILEGES: flagVar("KOZMIC_NO_NEW_PRIVILEGES"),
    KOZMIC_DOCKER_RUNTIME: patternVar(
      "KOZMIC_DOCKER_RUNTIME",
      DOCKER_NAME,
      "a Docker runtime name such as runc or runsc",
    ),
    KOZMIC_CACHE_KEEP: wholeNumberVar("KOZMIC_CACHE_KEEP", 1, 1000),
    KOZMIC_CACHE_MAX_BYTES: sizeVar("KOZMIC_CACHE_MAX_BYTES"),
    KOZMIC_CACHE_REGISTRY: cacheRegistryVar,
    // Never echoed: it is a secret.
    KOZMIC_CACHE_REGISTRY_KEY: z
      .string()
      .optional()
      .refine((value) => value === undefined || value.trim().length >= 32, {
        message:
          "KOZMIC_CACHE_REGISTRY_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)",
      }),
    KOZMIC_DATA_DIR,
  })
  .transform((e): PipelineSettings => {
    // The ceilings default to this machine; the defaults never exceed the ceilings.
    const maxMemoryBytes = e.KOZMIC_MAX_MEMORY ?? totalmem();
    const maxCpus = e.KOZMIC_MAX_CPUS ?? availableParallelism();
    return {
      defaultMemoryBytes: Math.min(e.KOZMIC_DEFAULT_MEMORY ?? 2 * 1024 ** 3, maxMemoryBytes),
      defaultCpus: Math.min(e.KOZMIC_DEFAULT_CPUS ?? 2, maxCpus),
      defaultPids: e.KOZMIC_DEFAULT_PIDS ?? 1024,
      maxMemoryBytes,
      maxCpus,
      network: e.KOZMIC_NETWORK ?? "bridge",
      ...(e.KOZMIC_NETWORK ? {} : { networkIsDefault: true }),
      allowHostNetwork: e.KOZMIC_ALLOW_HOST_NETWORK ?? false,
      noNewPrivileges: e.KOZMIC_NO_NEW_PRIVILEGES ?? false,
      ...(e.KOZMIC_DOCKER_RUNTIME ? { runtime: e.KOZMIC_DOCKER_RUNTIME } : {}),
      cacheKeep: e.KOZMIC_CACHE_KEEP ?? 3,
      ...(e.KOZMIC_CACHE_MAX_BYTES ? { cacheMaxBytes: e.KOZMIC_CACHE_MAX_BYTES } : {}),
      ...(e.KOZMIC_CACHE_REGISTRY
        ? {
            cacheRegistry: {
              ...e.KOZMIC_CACHE_REGISTRY,
              ...(e.KOZMIC_CACHE_REGISTRY_KEY
                ? { tagKey: e.KOZMIC_CACHE_REGISTRY_KEY.trim() }
                : {}),
            },
          }
        : {}),
      dataDir: e.KOZMIC_DATA_DIR,
    };
  });

/** Container limits, network, install cache and data directory of the runner and `kozmic run`. */
export const pipelineGroup: SettingsGroup<PipelineSettings> = schemaGroup(schema);
