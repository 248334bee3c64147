import type { Env } from "./settings-group.js";

/**
 * Variables a release renamed or stopped reading, so that a `.env` or environment written
 * for an earlier release still starts this one: a renamed variable's value is read under
 * its new name (with a notice to rename it), a removed one gets a notice saying what
 * replaces it. Add a row when a release renames or removes a variable; never reuse a name.
 */
export type VariableChange =
  { renamedTo: string; since: string } | { removed: string; since: string };

export const RENAMED_VARIABLES: Readonly<Record<string, VariableChange>> = {
  KOZMIC_RUN_SERVER: {
    removed:
      "`kozmic run` no longer hands its runs to a run server (each run starts quickly on its own); remove it",
    since: "4ae8374, 2026-12-06",
  },
  KOZMIC_RUN_SERVER_IDLE: {
    removed: "there is no run server any more (see KOZMIC_RUN_SERVER); remove it",
    since: "4ae8374, 2026-12-06",
  },
};

/**
 * `env` with each renamed variable's value under its new name (where the new name is
 * unset), and one notice per old variable set, naming what replaces it.
 */
export function withRenamedVariables(
  env: Env,
  changes: Readonly<Record<string, VariableChange>> = RENAMED_VARIABLES,
): { env: Env; notices: string[] } {
  const out: Record<string, string | undefined> = { ...env };
  const notices: string[] = [];
  const set = (name: string) => (env[name] ?? "").trim() !== "";
  for (const [old, change] of Object.entries(changes)) {
    if (!set(old)) continue;
    if ("removed" in change) {
      notices.push(`${old} is no longer read (since ${change.since}): ${change.removed}`);
    } else if (set(change.renamedTo)) {
      notices.push(
        `${old} is no longer read (since ${change.since}; ${change.renamedTo}, which is set, replaces it): remove it`,
      );
    } else {
      out[change.renamedTo] = env[old];
      notices.push(
        `${old} is now ${change.renamedTo} (since ${change.since}): its value was used; rename it where it is set`,
      );
    }
  }
  return { env: out, notices };
}
