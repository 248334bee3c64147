import { splitTopLevelCommands } from "./split-commands.js";

/** A shell script that prints each top-level command before running it. */
export interface EchoedScript {
  /** The script, each top-level command preceded on its own line by its echo. */
  body: string;
  /** The commands as written, one line each: number n (in the status file) is `commands[n - 1]`. */
  commands: string[];
}

/** Lines of a command echoed; a longer one ends with how many more there are. */
export const ECHO_MAX_LINES = 5;

/**
 * How each echoed line starts: dim, written `22;2` (seldom printed by programs), so the
 * runner can tell an echo that lands in the middle of a line of output (echo-line-starts).
 */
export const ECHO_START = "\x1b[22;2m";
/** How each echoed line ends. */
export const ECHO_END = "\x1b[0m\n";

/**
 * Scripts left as written: they trace themselves already (`set -x`), or read what the echo
 * would change between two commands (`$_`, bash's PIPESTATUS and BASH_COMMAND, an ERR trap),
 * or use the names the echo does.
 */
const LEFT_ALONE = [
  /^#!.*\s-[A-Za-z]*x/,
  /\bset\s+(-[A-Za-z]*x|-o\s+xtrace)/,
  /\$\{?_(?![A-Za-z0-9_])/,
  /PIPESTATUS|BASH_COMMAND|__kozmic_/,
  /\btrap\b.*\bERR\b/,
];

/**
 * The script with each top-level command echoed as written (`+ pytest -q`, dim), never
 * expanded, so a secret in a variable is never printed by it. The added text goes on the
 * command's own line, so the shell's "line N" still points at the user's line; it keeps `$?`
 * for the command. An EXIT trap writes "N STATUS" to `statusFile` when the script fails, N
 * being the last top-level command started; a script's own `trap … EXIT` replaces it (and
 * then nothing is named). Undefined when the script cannot be split with confidence: it
 * then runs exactly as written, without echo.
 */
export function echoScript(script: string, statusFile: string): EchoedScript | undefined {
  if (!/^[\w/.-]+$/.test(statusFile)) throw new TypeError(`unusable status file ${statusFile}`);
  if (LEFT_ALONE.some((pattern) => pattern.test(script))) return undefined;
  const split = splitTopLevelCommands(script);
  if (!split || split.length === 0) return undefined;
  const commands: string[] = [];
  let body = "";
  let copied = 0;
  split.forEach((command, index) => {
    body += script.slice(copied, command.start);
    copied = command.start;
    if (index === 0) body += header(statusFile);
    if (command.definesFunction) return;
    const text = script.slice(command.start, command.end);
    commands.push(oneLine(text));
    body += echoOf(commands.length, text);
  });
  return { body: body + script.slice(copied), commands };
}

/** Defined before the first command: the status keeper and the EXIT trap. */
function header(statusFile: string): string {
  const trap =
    '__kozmic_s=$?; if [ "$__kozmic_s" -ne 0 ]; then ' +
    `{ printf "%s %s\\n" "$__kozmic_n" "$__kozmic_s" >${statusFile}; } 2>/dev/null || :; ` +
    'fi; exit "$__kozmic_s"';
  return `__kozmic_r() { return "$1"; }; __kozmic_n=0; trap '${trap}' EXIT; `;
}

/**
 * Prints the command, numbers it and gives it back `$?`; `&& :` keeps `set -e` from
 * stopping on that restored status (a non-last command of an AND-OR list).
 */
function echoOf(n: number, text: string): string {
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  const shown = lines.length > ECHO_MAX_LINES ? lines.slice(0, ECHO_MAX_LINES - 1) : lines;
  const printed = shown.map((line, i) => `${ECHO_START}${i === 0 ? "+ " : "  "}${line}\x1b[0m`);
  if (shown.length < lines.length)
    printed.push(`${ECHO_START}  … (${lines.length - shown.length} more lines)\x1b[0m`);
  const args = printed.map(singleQuoted).join(" ");
  return (
    `__kozmic_s=$?; printf '%s\\n' ${args} 2>/dev/null || :; ` +
    `__kozmic_n=${n}; __kozmic_r "$__kozmic_s" && :; `
  );
}

/** A command on one line, for naming it: continued lines joined, later lines as "…". */
function oneLine(text: string): string {
  const joined = text.replace(/[ \t]*\\\r?\n[ \t]*/g, " ");
  const [first = "", ...rest] = joined.split("\n");
  const line = first.replace(/\r$/, "").trim();
  const short = line.length > 200 ? `${line.slice(0, 199)}…` : line;
  return rest.length > 0 ? `${short} …` : short;
}

function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * The command a failed echoed script names in its status file ("N STATUS"), when that
 * status is the step's exit code; undefined otherwise (the file missing, written by the
 * script itself, or an `exit` that names nothing more than the code).
 */
export function failedCommand(
  statusText: string | undefined,
  echoed: EchoedScript,
  exitCode: number,
): string | undefined {
  const match = /^(\d{1,9}) (\d{1,3})\n$/.exec(statusText ?? "");
  if (!match || Number(match[2]) !== exitCode) return undefined;
  const command = echoed.commands[Number(match[1]) - 1];
  return command !== undefined && !/^exit\b/.test(command) ? command : undefined;
}
