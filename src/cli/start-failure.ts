import { KozmicError } from "../core/errors.js";

/**
 * Prints an error that stops a command at start, one line per problem, and returns its exit
 * code: 2 for bad settings (fix them and start again), 3 for an outage (starting again
 * later may work). Anything else is a bug and is thrown on.
 */
export function startFailure(command: string, error: unknown): number {
  if (!(error instanceof KozmicError)) throw error;
  for (const line of error.message.split("\n")) console.error(`${command}: ${line}`);
  return error.transient ? 3 : 2;
}
