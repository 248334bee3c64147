import { secretPatterns } from "./secret-patterns.js";

export const MASK = "***";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Replaces secret values (and their encoded forms, secret-patterns.ts) with `***` in a
 * stream of text that arrives in pieces of any size, down to one character. The end of
 * what it was given that could still become a match is held back until more text decides
 * it (or `end()`), so a value split across writes is masked like a whole one.
 */
export class SecretMasker {
  private patterns: string[] = [];
  private firstChars = new Set<string>();
  private matcher: RegExp | undefined;
  private pending = "";

  constructor(
    values: Iterable<string> = [],
    private readonly minLength = 6,
  ) {
    this.add(values);
  }

  /** Masks these values from now on. */
  add(values: Iterable<string>): void {
    const all = new Set(this.patterns);
    for (const value of values)
      for (const form of secretPatterns(value, this.minLength)) all.add(form);
    // Longest first: at one position the alternation takes the longest form.
    this.patterns = [...all].sort((a, b) => b.length - a.length);
    this.firstChars = new Set(this.patterns.map((p) => p[0]!));
    this.matcher =
      this.patterns.length > 0 ? new RegExp(this.patterns.map(escape).join("|"), "g") : undefined;
  }

  get active(): boolean {
    return this.matcher !== undefined;
  }

  /** `text` masked whole, for text that is complete in itself (an error message). */
  mask(text: string): string {
    return this.matcher ? text.replace(this.matcher, MASK) : text;
  }

  /**
   * `error` with its message masked, in place: a job's error message reaches its log and
   * its check run's summary.
   */
  maskError<T>(error: T): T {
    if (this.matcher && error instanceof Error) error.message = this.mask(error.message);
    return error;
  }

  /** The part of the stream that is decided, masked; the rest waits for the next write. */
  write(text: string): string {
    if (!this.matcher) return text;
    const s = this.pending + text;
    let cut = this.holdFrom(s);
    // A match that reaches past the cut waits whole: the text after it may make it longer.
    this.matcher.lastIndex = 0;
    for (let m = this.matcher.exec(s); m; m = this.matcher.exec(s)) {
      if (m.index >= cut) break;
      if (m.index + m[0].length > cut) {
        cut = m.index;
        break;
      }
    }
    this.pending = s.slice(cut);
    return this.mask(s.slice(0, cut));
  }

  /** The held-back rest, masked: the stream has ended. */
  end(): string {
    const rest = this.mask(this.pending);
    this.pending = "";
    return rest;
  }

  /** Where the longest end of `s` that is a proper prefix of some pattern starts. */
  private holdFrom(s: string): number {
    const longest = this.patterns[0]?.length ?? 0;
    for (let p = Math.max(0, s.length - longest + 1); p < s.length; p += 1) {
      if (!this.firstChars.has(s[p]!)) continue;
      const tail = s.slice(p);
      if (
        this.patterns.some((pattern) => pattern.length > tail.length && pattern.startsWith(tail))
      ) {
        return p;
      }
    }
    return s.length;
  }
}
