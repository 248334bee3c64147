/**
 * Kozmic's settings: one reader for every entry point. Each group of environment variables
 * has one zod schema (./*-settings.ts, ./app-credentials.ts); readSettings reads the groups
 * an entry point needs and throws one SettingsError naming every bad variable.
 */
import { appCredentialsGroup } from "./app-credentials.js";
import { artifactGroup, artifactSizeGroup } from "./artifact-settings.js";
import { hostGroup } from "./host-settings.js";
import { logGroup } from "./log-settings.js";
import { metricsGroup } from "./metrics-settings.js";
import { pipelineGroup } from "./pipeline-settings.js";
import { runnerGroup } from "./runner-settings.js";
import { secretsGroup } from "./secrets-settings.js";
import { listenGroup, runsJobsHere, serverGroup } from "./server-settings.js";
import { withRenamedVariables } from "./renamed-variables.js";
import { SettingsError } from "./settings-error.js";
import type { Env, SettingsGroup } from "./settings-group.js";
import { awsStorageGroup, storageGroup } from "./storage-settings.js";
import { webGroup } from "./web-settings.js";

export type { Env } from "./settings-group.js";

/** Every group of settings, by name. Each entry point reads the groups it needs. */
export const SETTINGS_GROUPS = {
  app: appCredentialsGroup,
  server: serverGroup,
  listen: listenGroup,
  web: webGroup,
  runner: runnerGroup,
  pipeline: pipelineGroup,
  storage: storageGroup,
  artifacts: artifactGroup,
  artifactSize: artifactSizeGroup,
  awsStorage: awsStorageGroup,
  metrics: metricsGroup,
  log: logGroup,
  secrets: secretsGroup,
  host: hostGroup,
};

export type GroupName = keyof typeof SETTINGS_GROUPS;

export type Settings = {
  [G in GroupName]: (typeof SETTINGS_GROUPS)[G] extends SettingsGroup<infer T> ? T : never;
};

/**
 * The groups each entry point reads. `kozmic serve` reads the runner and pipeline groups
 * only when it runs jobs itself (readServeSettings); the Lambda's handlers add awsStorage.
 */
export const ENTRY_POINT_GROUPS = {
  serve: [
    "app",
    "server",
    "web",
    "storage",
    "artifacts",
    "runner",
    "pipeline",
    "secrets",
    "metrics",
  ],
  runner: [
    "app",
    "runner",
    "pipeline",
    "storage",
    "artifacts",
    "metrics",
    "log",
    "secrets",
    "host",
  ],
  // A repository's name is resolved to its id on GitHub, as the app.
  secrets: ["app", "storage", "secrets"],
  // The same, to hand the planner a run by hand.
  dispatch: ["app", "storage"],
  run: ["pipeline", "artifactSize"],
  cache: ["pipeline"],
  lambda: ["app", "server", "web", "storage", "artifacts", "secrets"],
  planLambda: ["app", "server", "storage"],
} as const satisfies Record<string, readonly GroupName[]>;

export type EntryPoint = keyof typeof ENTRY_POINT_GROUPS;

/**
 * Empty or blank counts as unset: `FOO=` in an environment file means "use the default".
 * A variable a release renamed counts under its new name (renamed-variables.ts).
 */
export function withoutBlanks(env: Env): Env {
  return Object.fromEntries(
    Object.entries(withRenamedVariables(env).env).filter(
      ([, value]) => value !== undefined && value.trim() !== "",
    ),
  );
}

/**
 * Reads the named groups; a SettingsError names every bad variable of all of them, each
 * once (a variable several groups share gives the same line in each).
 */
export function readSettings<const G extends GroupName>(
  env: Env,
  groups: readonly G[],
): Pick<Settings, G> {
  const present = withoutBlanks(env);
  const settings: Record<string, unknown> = {};
  const problems = new Set<string>();
  for (const name of groups) {
    const result = SETTINGS_GROUPS[name].read(present);
    if (result.ok) settings[name] = result.value;
    else for (const problem of result.problems) problems.add(problem);
  }
  if (problems.size > 0) throw new SettingsError([...problems]);
  return settings as Pick<Settings, G>;
}

type ServeGroup = (typeof ENTRY_POINT_GROUPS.serve)[number];

/**
 * `kozmic serve`: the runner and pipeline groups only where it runs jobs
 * (KOZMIC_EMBEDDED_RUNNER). Decided on the raw values, so that a bad server variable does
 * not hide the runner's problems.
 */
export function readServeSettings(
  env: Env,
): Pick<Settings, Exclude<ServeGroup, "runner" | "pipeline">> &
  Partial<Pick<Settings, "runner" | "pipeline">> {
  const groups = ENTRY_POINT_GROUPS.serve;
  return readSettings(
    env,
    runsJobsHere(withoutBlanks(env))
      ? groups
      : groups.filter((g) => g !== "runner" && g !== "pipeline"),
  );
}
