/**
 * Kozmic's error classes. The split that matters is permanent vs transient:
 * a permanent error (bad input, a user's failing script) is reported and the work is
 * dropped; a transient error (Docker, AWS or GitHub outage) lets the work come back later.
 */
export abstract class KozmicError extends Error {
  abstract readonly transient: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input that will never succeed as it is: report it clearly and drop the work. */
export class PermanentError extends KozmicError {
  readonly transient = false;
}

/** An outage of something Kozmic depends on: retry with backoff, never blame the user's code. */
export class InfrastructureError extends KozmicError {
  readonly transient = true;
}

/** `.github/kozmic.yml` is invalid; `issues` lists every problem with its line and column. */
export class ConfigError extends PermanentError {
  constructor(
    message: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(message);
  }
}

export interface ConfigIssue {
  /** Human-readable, e.g. `hooks[0] ("test").timeout: expected a duration like "30m"`. */
  message: string;
  /** Dotted path inside the document, e.g. ["hooks", 0, "timeout"]. */
  path: (string | number)[];
  /** 1-based line and column in the YAML file, when known. */
  line?: number;
  column?: number;
}

/** A queue message that does not match the job message schema. */
export class InvalidMessageError extends PermanentError {}

/** A conditional write lost: the record was not in the expected state. */
export class ConflictError extends PermanentError {}
