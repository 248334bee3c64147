import type { AppCredentials } from "./app-credentials.js";
import type { LogSettings } from "./log-settings.js";
import type { MetricsSettings } from "./metrics-settings.js";
import { fileIo, readSettings, withoutBlanks, type GroupName } from "./read-settings.js";
import type { RunnerSettings } from "./runner-settings.js";
import type { SecretsSettings } from "./secrets-settings.js";
import { runsJobsHere, type ServerSettings } from "./server-settings.js";
import type { Env, SettingsIo } from "./settings-group.js";
import type { StorageSettings } from "./storage-settings.js";
import type { WebSettings } from "./web-settings.js";

/**
 * The groups each entry point reads. `kozmic serve` reads the runner and pipeline groups
 * only when it runs jobs itself (KOZMIC_EMBEDDED_RUNNER).
 */
export const ENTRY_POINT_GROUPS = {
  serve: ["app", "server", "web", "storage", "runner", "pipeline", "secrets", "metrics"],
  runner: ["app", "runner", "pipeline", "storage", "metrics", "log", "secrets"],
  secrets: ["app", "storage", "secrets"],
  run: ["pipeline"],
  cache: ["pipeline"],
  lambda: ["app", "server", "web", "storage", "secrets"],
  planLambda: ["app", "server", "storage"],
} as const satisfies Record<string, readonly GroupName[]>;

export type EntryPoint = keyof typeof ENTRY_POINT_GROUPS;

export interface ServeSettings {
  server: ServerSettings;
  web: WebSettings;
  storage: StorageSettings;
  /** Set when `kozmic serve` runs jobs itself. */
  runner?: RunnerSettings;
  /** The key of repository secrets: the pages set them, an embedded runner reads them. */
  secrets: SecretsSettings;
  /** Where /metrics is served: its own listener, never the public port. */
  metrics: MetricsSettings;
}

/** `kozmic serve`. */
export function readServeSettings(env: Env, io: SettingsIo = fileIo): ServeSettings {
  // The runner's variables matter only where jobs run. Decided on the raw values, so that a
  // bad server variable does not hide the runner's problems.
  if (!runsJobsHere(withoutBlanks(env))) {
    const s = readSettings(env, ["app", "server", "web", "storage", "secrets", "metrics"], io);
    return {
      server: { ...s.app, ...s.server },
      web: s.web,
      storage: s.storage,
      secrets: s.secrets,
      metrics: s.metrics,
    };
  }
  const s = readSettings(env, ENTRY_POINT_GROUPS.serve, io);
  return {
    server: { ...s.app, ...s.server },
    web: s.web,
    storage: s.storage,
    runner: { ...s.runner, pipeline: s.pipeline },
    secrets: s.secrets,
    metrics: s.metrics,
  };
}

export interface RunnerCommandSettings {
  credentials: AppCredentials;
  log: LogSettings;
  metrics: MetricsSettings;
  runner: RunnerSettings;
  storage: StorageSettings;
  secrets: SecretsSettings;
}

/** `kozmic runner`. */
export function readRunnerCommandSettings(
  env: Env,
  io: SettingsIo = fileIo,
): RunnerCommandSettings {
  const s = readSettings(env, ENTRY_POINT_GROUPS.runner, io);
  return {
    credentials: s.app,
    runner: { ...s.runner, pipeline: s.pipeline },
    storage: s.storage,
    metrics: s.metrics,
    log: s.log,
    secrets: s.secrets,
  };
}

/**
 * `kozmic secrets`: the store, the key of repository secrets, and the app's credentials
 * (a repository's name is resolved to its id on GitHub, as the app).
 */
export function readSecretsCommandSettings(
  env: Env,
  io: SettingsIo = fileIo,
): { credentials: AppCredentials; storage: StorageSettings; secrets: SecretsSettings } {
  const s = readSettings(env, ENTRY_POINT_GROUPS.secrets, io);
  return { credentials: s.app, storage: s.storage, secrets: s.secrets };
}

export { readCacheSettings, readRunSettings } from "./pipeline-entry-points.js";

export interface LambdaSettings {
  server: ServerSettings;
  web: WebSettings;
  storage: StorageSettings;
  /** The key of repository secrets, for the pages that set them (the `handler` only). */
  secrets?: SecretsSettings;
}

/** The Lambda's `handler`: webhooks and log pages. */
export function readLambdaSettings(env: Env, io: SettingsIo = fileIo): LambdaSettings {
  const s = readSettings(env, ENTRY_POINT_GROUPS.lambda, io);
  return { server: { ...s.app, ...s.server }, web: s.web, storage: s.storage, secrets: s.secrets };
}

/** The Lambda's `planHandler`: the planner behind the planning queue. */
export function readPlanLambdaSettings(
  env: Env,
  io: SettingsIo = fileIo,
): Omit<LambdaSettings, "web"> {
  const s = readSettings(env, ENTRY_POINT_GROUPS.planLambda, io);
  return { server: { ...s.app, ...s.server }, storage: s.storage };
}
