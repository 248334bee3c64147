/**
 * Columns at which tools wrap encoded output: GNU `base64` (and MIME) at 76, `openssl
 * base64` and PEM at 64. A line break right after a line this long may be a wrap inside one
 * value.
 */
export const WRAP_COLUMNS: readonly number[] = [64, 76];

const ESC = 0x1b;
const LF = 0x0a;
const CR = 0x0d;
const BRACKET = 0x5b;
/** Longest run of parameter and intermediate bytes taken as one escape sequence. */
const MAX_SEQUENCE = 64;

/**
 * Decides, one character at a time, which characters of a stream of output belong to its
 * "canonical text", the text secrets are looked for in: escape sequences (ANSI colours,
 * `ESC [ ... m`, and every other CSI sequence), carriage returns, and line breaks at a wrap
 * column are left out, so a value coloured in the middle or an encoding wrapped over lines
 * reads as one run of characters. Leaving a character out only ever joins text; a joined
 * run that is not a secret is not masked.
 */
export class CanonicalReader {
  /** Canonical characters since the last line break. */
  private column = 0;
  /** 0: text; 1: after ESC; 2: inside `ESC [`, with `length` bytes so far. */
  private escape = 0;
  private length = 0;

  /** True when `code`, the next character of the stream, is part of the canonical text. */
  take(code: number): boolean {
    if (this.escape === 1) {
      this.escape = 0;
      if (code === BRACKET) {
        this.escape = 2;
        this.length = 0;
        return false;
      }
    } else if (this.escape === 2) {
      if (code >= 0x20 && code <= 0x3f && this.length < MAX_SEQUENCE) {
        this.length += 1;
        return false;
      }
      this.escape = 0;
      if (code >= 0x40 && code <= 0x7e) return false;
    }
    if (code === ESC) {
      this.escape = 1;
      return false;
    }
    if (code === CR) return false;
    if (code === LF) {
      const wrapped = WRAP_COLUMNS.includes(this.column);
      this.column = 0;
      return !wrapped;
    }
    this.column += 1;
    return true;
  }
}

/** `text`'s canonical text, read from the start of a line. */
export function canonicalText(text: string): string {
  const reader = new CanonicalReader();
  let out = "";
  for (let i = 0; i < text.length; i++) if (reader.take(text.charCodeAt(i))) out += text[i];
  return out;
}
