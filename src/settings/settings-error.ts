import { PermanentError } from "../core/errors.js";

/**
 * Missing, malformed or contradictory settings. `problems` holds one line per bad variable,
 * each starting with the variable's name; the message is those lines, one per line.
 */
export class SettingsError extends PermanentError {
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const lines = typeof problems === "string" ? [problems] : problems;
    super(lines.join("\n"));
    this.problems = lines;
  }
}
