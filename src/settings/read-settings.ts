import { appCredentialsGroup } from "./app-credentials.js";
import { logGroup } from "./log-settings.js";
import { metricsGroup } from "./metrics-settings.js";
import { pipelineGroup } from "./pipeline-settings.js";
import { runnerGroup } from "./runner-settings.js";
import { secretsGroup } from "./secrets-settings.js";
import { listenGroup, serverGroup } from "./server-settings.js";
import { fileIo, readGroups } from "./read-groups.js";
import type { Env, SettingsGroup, SettingsIo } from "./settings-group.js";
import { storageGroup } from "./storage-settings.js";
import { webGroup } from "./web-settings.js";

/** Every group of settings, by name. Each entry point reads the groups it needs. */
export const SETTINGS_GROUPS = {
  app: appCredentialsGroup,
  server: serverGroup,
  listen: listenGroup,
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

export { fileIo, withoutBlanks } from "./read-groups.js";

/**
 * Reads the named groups; a SettingsError names every bad variable of all of them, each
 * once (a variable several groups share gives the same line in each).
 */
export function readSettings<const G extends GroupName>(
  env: Env,
  groups: readonly G[],
  io: SettingsIo = fileIo,
): Pick<Settings, G> {
  const chosen = Object.fromEntries(groups.map((name) => [name, SETTINGS_GROUPS[name]]));
  return readGroups(env, chosen, io) as Pick<Settings, G>;
}
