/**
 * Kozmic's settings: one reader for every entry point. Each group of environment variables
 * has one zod schema (./*-settings.ts, ./app-credentials.ts); readSettings reads the groups
 * an entry point needs and throws one SettingsError naming every bad variable.
 */
import type { PipelineSettings } from "../core/pipeline-settings.js";
import type { AppCredentials } from "./app-credentials.js";
import { fileIo, readSettings } from "./read-settings.js";
import type { RunnerSettings } from "./runner-settings.js";
import type { ServerSettings } from "./server-settings.js";
import type { Env, SettingsIo } from "./settings-group.js";
import type { StorageSettings } from "./storage-settings.js";
import type { WebSettings } from "./web-settings.js";

export { readSettings, SETTINGS_GROUPS, type GroupName, type Settings } from "./read-settings.js";
export * from "./entry-points.js";
export { SettingsError } from "./settings-error.js";
export type { Env, SettingsIo } from "./settings-group.js";
export type { AppCredentials } from "./app-credentials.js";
export type { ServerSettings, ServerOwnSettings } from "./server-settings.js";
export type { RunnerSettings, RunnerOwnSettings } from "./runner-settings.js";
export type { WebSettings } from "./web-settings.js";
export type { MetricsSettings } from "./metrics-settings.js";
export type { LogLevel, LogSettings } from "./log-settings.js";
export type { SecretsSettings } from "./secrets-settings.js";
export {
  PLAN_MAX_RECEIVES,
  type DynamoSettings,
  type QueueSettings,
  type SqsSettings,
  type StorageSettings,
} from "./storage-settings.js";

// One group at a time, for code that needs no more.

export function readAppCredentials(
  env: Env = process.env,
  io: SettingsIo = fileIo,
): AppCredentials {
  return readSettings(env, ["app"], io).app;
}

export function readServerSettings(
  env: Env = process.env,
  io: SettingsIo = fileIo,
): ServerSettings {
  const s = readSettings(env, ["app", "server"], io);
  return { ...s.app, ...s.server };
}

/** The runner's settings with the pipeline's limits. */
export function readRunnerSettings(env: Env = process.env): RunnerSettings {
  const s = readSettings(env, ["runner", "pipeline"]);
  return { ...s.runner, pipeline: s.pipeline };
}

export function readPipelineSettings(env: Env = process.env): PipelineSettings {
  return readSettings(env, ["pipeline"]).pipeline;
}

export function readStorageSettings(env: Env = process.env): StorageSettings {
  return readSettings(env, ["storage"]).storage;
}

export function readWebSettings(env: Env = process.env): WebSettings {
  return readSettings(env, ["web"]).web;
}
