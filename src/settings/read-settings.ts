import { readFileSync } from "node:fs";
import { appCredentialsGroup } from "./app-credentials.js";
import { logGroup } from "./log-settings.js";
import { metricsGroup } from "./metrics-settings.js";
import { pipelineGroup } from "./pipeline-settings.js";
import { runnerGroup } from "./runner-settings.js";
import { secretsGroup } from "./secrets-settings.js";
import { serverGroup } from "./server-settings.js";
import { SettingsError } from "./settings-error.js";
import type { Env, SettingsGroup, SettingsIo } from "./settings-group.js";
import { storageGroup } from "./storage-settings.js";
import { webGroup } from "./web-settings.js";

/** Every group of settings, by name. Each entry point reads the groups it needs. */
export const SETTINGS_GROUPS = {
  app: appCredentialsGroup,
  server: serverGroup,
  web: webGroup,
  runner: runnerGroup,
  pipeline: pipelineGroup,
  storage: storageGroup,
  metrics: metricsGroup,
  log: logGroup,
  secrets: secretsGroup,
};

export type GroupName = keyof typeof SETTINGS_GROUPS;

export type Settings = {
  [G in GroupName]: (typeof SETTINGS_GROUPS)[G] extends SettingsGroup<infer T> ? T : never;
};

export const fileIo: SettingsIo = { readTextFile: (path) => readFileSync(path, "utf8") };

/** Empty or blank counts as unset: `FOO=` in an environment file means "use the default". */
export function withoutBlanks(env: Env): Env {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
}

/**
 * Reads the named groups; a SettingsError names every bad variable of all of them, each
 * once (a variable several groups share gives the same line in each).
 */
export function readSettings<const G extends GroupName>(
  env: Env,
  groups: readonly G[],
  io: SettingsIo = fileIo,
): Pick<Settings, G> {
  const present = withoutBlanks(env);
  const settings: Partial<Settings> = {};
  const problems = new Set<string>();
  for (const name of groups) {
    const result = SETTINGS_GROUPS[name].read(present, io);
    if (result.ok) Object.assign(settings, { [name]: result.value });
    else for (const problem of result.problems) problems.add(problem);
  }
  if (problems.size > 0) throw new SettingsError([...problems]);
  return settings as Pick<Settings, G>;
}
