import type { LogSink } from "./log-sink.js";
import { CanonicalReader } from "./canonical-text.js";
import { MatchAutomaton } from "./match-automaton.js";
import { secretPatterns } from "./secret-patterns.js";

export const MASK = "***";

/**
 * One stream of output read through its canonical text (canonical-text.ts): every secret
 * form is looked for at once (match-automaton.ts) in the canonical text, and each match is
 * masked in the original text, where it may be spread over wrapped lines or broken by
 * colours. A masked span keeps the line breaks and escape sequences it crossed, with `***`
 * for each piece of the value between them.
 */
class MaskStream {
  private readonly reader = new CanonicalReader();
  private state = MatchAutomaton.ROOT;
  /** Original text not passed on yet. */
  private pending = "";
  /** Offset in `pending` of each canonical character in it. */
  private offsets = new Int32Array(1024);
  private count = 0;
  /** Matched canonical spans [start, end), sorted, disjoint and not touching. */
  private spans: number[] = [];

  constructor(private readonly automaton: MatchAutomaton) {}

  get held(): string {
    return this.pending;
  }

  /** Reads `text`; returns the part of the stream that is decided, masked. */
  write(text: string): string {
    this.read(text);
    return this.release(false);
  }

  /** The rest, masked: the stream has ended. */
  end(): string {
    return this.release(true);
  }

  private read(text: string): void {
    const base = this.pending.length;
    this.pending += text;
    const { automaton, reader } = this;
    if (this.offsets.length < this.count + text.length) {
      const grown = new Int32Array(Math.max(this.offsets.length * 2, this.count + text.length));
      grown.set(this.offsets.subarray(0, this.count));
      this.offsets = grown;
    }
    let state = this.state;
    for (let j = 0; j < text.length; j++) {
      const code = text.charCodeAt(j);
      if (!reader.take(code)) continue;
      this.offsets[this.count++] = base + j;
      state = automaton.step(state, code);
      const length = automaton.matched[state]!;
      if (length > 0) this.addSpan(this.count - length, this.count);
    }
    this.state = state;
  }

  private addSpan(start: number, end: number): void {
    const spans = this.spans;
    // Spans are found in order of their ends; a new one may reach back over earlier ones.
    while (spans.length > 0 && spans[spans.length - 1]! >= start) {
      start = Math.min(start, spans[spans.length - 2]!);
      spans.length -= 2;
    }
    spans.push(start, end);
  }

  private release(all: boolean): string {
    const { spans, offsets, pending } = this;
    // What could still grow into a match waits; so does a match that reaches past that.
    let cut = all ? this.count : this.count - this.automaton.depth[this.state]!;
    const last = spans.length - 2;
    if (last >= 0 && spans[last]! < cut && spans[last + 1]! > cut) cut = spans[last]!;
    const originalCut = cut < this.count ? offsets[cut]! : pending.length;
    let out = "";
    let at = 0;
    let used = 0;
    for (; used < spans.length && spans[used]! < cut; used += 2) {
      const start = spans[used]!;
      const end = spans[used + 1]!;
      out += pending.slice(at, offsets[start]);
      for (let k = start + 1; k <= end; k++) {
        if (k < end && offsets[k] === offsets[k - 1]! + 1) continue;
        out += MASK;
        if (k < end) out += pending.slice(offsets[k - 1]! + 1, offsets[k]);
      }
      at = offsets[end - 1]! + 1;
    }
    out += pending.slice(at, originalCut);
    this.pending = pending.slice(originalCut);
    for (let k = cut; k < this.count; k++) offsets[k - cut] = offsets[k]! - originalCut;
    this.count -= cut;
    this.spans = spans.slice(used).map((n) => n - cut);
    if (all) this.state = MatchAutomaton.ROOT;
    return out;
  }
}

/**
 * Replaces secret values (and their encoded forms, secret-patterns.ts) with `***` in a
 * stream of text that arrives in pieces of any size, down to one character. The end of
 * what it was given that could still become a match is held back until more text decides
 * it (or `end()`), so a value split across writes is masked like a whole one.
 */
export class SecretMasker {
  private patterns = new Set<string>();
  private automaton = new MatchAutomaton([]);
  private stream = new MaskStream(this.automaton);

  constructor(
    values: Iterable<string> = [],
    private readonly minLength = 6,
  ) {
    this.add(values);
  }

  /** Masks these values from now on. */
  add(values: Iterable<string>): void {
    for (const value of values)
      for (const form of secretPatterns(value, this.minLength)) this.patterns.add(form);
    this.automaton = new MatchAutomaton(this.patterns);
    // What was held back is read again by the new automaton (from a line's start).
    const held = this.stream.held;
    this.stream = new MaskStream(this.automaton);
    if (held) this.pendingOut = this.stream.write(held);
  }

  /** Text the masker decided while adding values: passed on with the next write. */
  private pendingOut = "";

  get active(): boolean {
    return !this.automaton.empty;
  }

  /** `text` masked whole, for text that is complete in itself (an error message). */
  mask(text: string): string {
    if (!this.active) return text;
    const stream = new MaskStream(this.automaton);
    return stream.write(text) + stream.end();
  }

  /**
   * `error` with its message masked, in place: a job's error message reaches its log and
   * its check run's summary.
   */
  maskError<T>(error: T): T {
    if (this.active && error instanceof Error) error.message = this.mask(error.message);
    return error;
  }

  /** The part of the stream that is decided, masked; the rest waits for the next write. */
  write(text: string): string {
    if (!this.active) return text;
    const out = this.pendingOut + this.stream.write(text);
    this.pendingOut = "";
    return out;
  }

  /** The held-back rest, masked: the stream has ended. */
  end(): string {
    const out = this.pendingOut + this.stream.end();
    this.pendingOut = "";
    return out;
  }
}

export interface MaskingSink extends LogSink {
  /** Passes on what the masker held back: the output has ended. */
  end(): void;
}

/**
 * A LogSink that masks secrets before `inner` sees anything: the stored log, the live page,
 * the raw log and the check run's tail all read what passed here. `flush` releases what the
 * masker held back, so call it only where the output has ended.
 */
export function maskingSink(inner: LogSink, masker: SecretMasker): MaskingSink {
  const end = () => {
    const rest = masker.end();
    if (rest) inner.write(rest);
  };
  return {
    write(text) {
      const decided = masker.write(text);
      if (decided) inner.write(decided);
    },
    end,
    async flush() {
      end();
      await inner.flush();
    },
  };
}
