import picomatch from "picomatch";
import type { Hook, HookEvent } from "./config/schema.js";

/** What decides whether a hook runs: the event, its ref and the files it changed. */
export interface ConditionFacts {
  event: HookEvent;
  /** `refs/heads/main`, `refs/tags/v1`; for a pull request its base branch's ref. */
  ref: string;
  /**
   * The files the push or pull request changed; undefined when GitHub could not say (a new
   * branch, a change list too long to list), which runs every hook whatever its `paths`.
   */
  changedFiles?: readonly string[] | undefined;
}

export type HookDecision =
  | { run: true }
  /**
   * `report`: the hook would have run but for its paths, so it gets a `skipped` check run
   * (a required check must not wait for a run that never comes); else no check run at all.
   */
  | { run: false; reason: string; report: boolean };

/** Whether the hook runs for these facts, and if not, why. Pure. */
export function decideHook(hook: Hook, facts: ConditionFacts): HookDecision {
  const events = hook.on ?? ["push", "pull_request", "schedule", "manual"];
  if (!events.includes(facts.event)) {
    return skip(`it runs on ${events.join(", ")}, not on ${facts.event}`);
  }
  const tag = facts.ref.startsWith("refs/tags/") ? facts.ref.slice("refs/tags/".length) : undefined;
  if (tag !== undefined) {
    if (!hook.tags) return skip("it lists no tags");
    if (!matchesRefPatterns(hook.tags, tag)) return skip(`tag ${tag} is not in its tags`);
  } else if (hook.branches) {
    const branch = facts.ref.replace(/^refs\/heads\//, "");
    if (!matchesRefPatterns(hook.branches, branch)) {
      return skip(`branch ${branch} is not in its branches`);
    }
  } else if (hook.tags && (facts.event === "push" || facts.event === "pull_request")) {
    // A hook that names tags but no branches is a release hook, as in GitHub Actions.
    return skip("it lists tags and no branches");
  }
  if (!hook.paths && !hook.paths_ignore) return { run: true };
  if (facts.event !== "push" && facts.event !== "pull_request") return { run: true };
  const files = facts.changedFiles;
  if (files === undefined || files.length === 0) return { run: true };
  if (matchesPaths(hook, files)) return { run: true };
  return {
    run: false,
    report: true,
    reason: hook.paths
      ? `no changed file matches its paths (${hook.paths.join(", ")})` +
        (hook.paths_ignore ? ` outside its paths_ignore (${hook.paths_ignore.join(", ")})` : "")
      : `every changed file matches its paths_ignore (${hook.paths_ignore!.join(", ")})`,
  };
}

/** Whether any hook's decision depends on the changed files (worth asking GitHub for them). */
export function needsChangedFiles(hooks: readonly Hook[]): boolean {
  return hooks.some((hook) => hook.paths !== undefined || hook.paths_ignore !== undefined);
}

/**
 * A name matches when it matches an including pattern (or only excluding ones are given)
 * and no `!` pattern. `*` stays within one `/` segment, `**` crosses them.
 */
export function matchesRefPatterns(patterns: readonly string[], name: string): boolean {
  const include = patterns.filter((p) => !p.startsWith("!"));
  const exclude = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const included = include.length === 0 || picomatch.isMatch(name, include, { dot: true });
  return included && !(exclude.length > 0 && picomatch.isMatch(name, exclude, { dot: true }));
}

/** Some changed file is outside `paths_ignore` and, when `paths` is given, inside it. */
function matchesPaths(hook: Hook, files: readonly string[]): boolean {
  const ignored = hook.paths_ignore ? picomatch(hook.paths_ignore, { dot: true }) : () => false;
  const wanted = hook.paths ? picomatch(hook.paths, { dot: true }) : () => true;
  return files.some((file) => !ignored(file) && wanted(file));
}

function skip(reason: string): HookDecision {
  return { run: false, reason, report: false };
}
