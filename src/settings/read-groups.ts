import { readFileSync } from "node:fs";
import { SettingsError } from "./settings-error.js";
import type { Env, SettingsGroup, SettingsIo } from "./settings-group.js";

export const fileIo: SettingsIo = { readTextFile: (path) => readFileSync(path, "utf8") };

/** Empty or blank counts as unset: `FOO=` in an environment file means "use the default". */
export function withoutBlanks(env: Env): Env {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
}

type Values<T> = { [K in keyof T]: T[K] extends SettingsGroup<infer V> ? V : never };

/**
 * Reads the given groups; a SettingsError names every bad variable of all of them, each
 * once (a variable several groups share gives the same line in each). Imports no group
 * itself: an entry point that needs one group loads only that group's schema.
 */
export function readGroups<T extends Record<string, SettingsGroup<unknown>>>(
  env: Env,
  groups: T,
  io: SettingsIo = fileIo,
): Values<T> {
  const present = withoutBlanks(env);
  const settings: Record<string, unknown> = {};
  const problems = new Set<string>();
  for (const [name, group] of Object.entries(groups)) {
    const result = group.read(present, io);
    if (result.ok) settings[name] = result.value;
    else for (const problem of result.problems) problems.add(problem);
  }
  if (problems.size > 0) throw new SettingsError([...problems]);
  return settings as Values<T>;
}
