/** How a hook script runs: the interpreter argv, and the text written to the script file. */
export interface ScriptCommand {
  /** Prepended to the script file's path, e.g. `["/bin/sh", "-e"]` or `["/usr/bin/env", "python3"]`. */
  interpreter: string[];
  /** The script exactly as written (the `#!` line included, so line numbers in errors match). */
  body: string;
}

export const DEFAULT_INTERPRETER: readonly string[] = ["/bin/sh", "-e"];

/**
 * A script whose first line starts with `#!` runs with that interpreter (its words split on
 * whitespace, so `#!/usr/bin/env bash -eu` works as in a terminal); any other script runs with
 * `/bin/sh -e`, which stops at the first failing command. Pure: the pipeline writes `body` to a
 * file in the container and runs `[...interpreter, file]`.
 */
export function scriptCommand(script: string): ScriptCommand {
  const problem = checkShebang(script);
  if (problem) throw new TypeError(problem);
  if (!script.startsWith("#!")) return { interpreter: [...DEFAULT_INTERPRETER], body: script };
  return { interpreter: shebangWords(script), body: script };
}

/** Why a script's `#!` line is unusable, or undefined; the schema reports it as a config problem. */
export function checkShebang(script: string): string | undefined {
  if (!script.startsWith("#!")) return undefined;
  const words = shebangWords(script);
  if (words.length === 0) return 'the "#!" line names no interpreter, e.g. "#!/bin/bash"';
  if (!words[0]!.startsWith("/"))
    return `the "#!" interpreter must be an absolute path such as "/usr/bin/env ${words[0]}", found "${words[0]}"`;
  return undefined;
}

/** Shells whose scripts Kozmic echoes: POSIX sh and its relatives, read alike. */
const SH_FAMILY = new Set(["sh", "bash", "dash", "ash", "ksh", "mksh"]);

/**
 * Whether the interpreter is a POSIX shell (`/bin/sh -e`, `#!/bin/bash`,
 * `#!/usr/bin/env bash`), whose commands can be echoed; python and others are not.
 */
export function isShellInterpreter(interpreter: readonly string[]): boolean {
  const [program = "", ...args] = interpreter;
  const env = program.split("/").pop() === "env";
  const name = env ? args.find((arg) => !arg.startsWith("-") && !arg.includes("=")) : program;
  return SH_FAMILY.has(name?.split("/").pop() ?? "");
}

function shebangWords(script: string): string[] {
  const firstLine = script.slice(2).split("\n", 1)[0] ?? "";
  return firstLine.replace(/\r$/, "").trim().split(/\s+/).filter(Boolean);
}
