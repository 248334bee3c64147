import { plainLogText } from "../../src/core/plain-log-text.js";

/** A job's log as a person reads it: without the echo's dim style or other escapes. */
export function shownLog(log: string): string {
  return plainLogText(log);
}

type Line = string | RegExp;

/**
 * What a shell script's run shows, as consecutive whole lines of shownLog: each top-level
 * command echoed (`+ id -u`), then what it printed (a RegExp: a line it matches). One
 * `[command, ...output]` per command.
 */
export function ran(...steps: (readonly [string, ...Line[]])[]): RegExp {
  const lines = steps.flatMap(([command, ...output]) => [`+ ${command}`, ...output]);
  const patterns = lines.map((line) =>
    typeof line === "string" ? line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : line.source,
  );
  return new RegExp(`^${patterns.join("\\n")}$`, "m");
}
