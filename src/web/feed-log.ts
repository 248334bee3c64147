import { groupMarker, isErrorLine, mayBeError, mayBeMarker } from "../core/log-line-kinds.js";
import { plainLogText } from "../core/plain-log-text.js";
import { advanceAnsi, renderAnsiLine, type AnsiState } from "./render-ansi.js";

/** Longer lines are shown in pieces of this many characters, each with its own number. */
export const MAX_LINE_CHARS = 16_384;

/**
 * Where a reader of a job's log stands: everything before chunk `seq` has been read, `line`
 * lines are complete, and `carry` is the unfinished line (starting in colour state `ansi`).
 * It depends only on the chunks before `seq`, so a page and a live tail that meet at the
 * same seq number the same lines the same way.
 */
export interface LogCursor {
  seq: number;
  line: number;
  carry: string;
  ansi: AnsiState;
  /** When the unfinished line's first output was written, if its chunk says. */
  carryAt?: number;
  /** The user group open here (`::group::`, Buildkite's `---`), if any. */
  group?: OpenGroup;
}

/** A user group: the line of its marker (not shown as text), the chunk it is in, its title. */
export interface OpenGroup {
  n: number;
  seq: number;
  title: string;
  folded: boolean;
}

export interface LogLine {
  /** 1-based line number. */
  n: number;
  html: string;
  /** Epoch ms when the line's first output was written (its chunk's time), when known. */
  at?: number;
  /** The chunk the line ended in: which section it belongs to (log-sections.ts). */
  seq: number;
  /** It looks like an error (log-line-kinds.ts). */
  error?: true;
  /** The line is a group marker: it opens `group`, or closes it. */
  mark?: "open" | "close";
  /** The user group the line is in (or opens, or closes). */
  group?: OpenGroup;
}

export const START_CURSOR: LogCursor = { seq: 0, line: 0, carry: "", ansi: {} };

export interface FeedOptions {
  /** Render lines to HTML (false: only count them and follow the colours). */
  render: boolean;
  /** No more chunks will come: the unfinished line is a line. */
  end: boolean;
  /** The log is finished, so a missing chunk will never come: show the gap and go on. */
  bridgeGaps: boolean;
  /**
   * With `bridgeGaps`: chunks before this seq that are missing after the last one given are
   * a gap too (a part whose last chunks were lost while later parts exist).
   */
  gapUntil?: number;
  /** With `render`: only lines numbered from this one are rendered (the rest are counted). */
  renderFrom?: number;
  /** Called with every line's number and raw text (for search and the error index). */
  onLine?: (n: number, raw: string) => void;
}

// eslint-disable-next-line no-control-regex
const NEEDS_PLAIN = /[\x00-\x08\x0b-\x1f\x7f]/;

/** A line's text without colours or other escapes (plainLogText, quicker for most lines). */
export function plainLine(raw: string): string {
  return NEEDS_PLAIN.test(raw) ? plainLogText(raw) : raw;
}

/**
 * Reads chunks (in seq order) from `cursor`. Without `bridgeGaps` it stops at the first
 * missing seq, since a chunk written out of order may still arrive.
 */
export function feedLog(
  cursor: LogCursor,
  chunks: readonly { seq: number; data: string; at?: number }[],
  options: FeedOptions,
): { cursor: LogCursor; lines: LogLine[] } {
  const lines: LogLine[] = [];
  let { seq, line, carry, ansi, carryAt, group } = cursor;
  /** When the line being emitted started. */
  let lineAt = carryAt;
  let lineSeq = Math.max(0, seq - 1);
  const emit = (text: string) => {
    line += 1;
    options.onLine?.(line, text);
    const marker = mayBeMarker(text) ? groupMarker(plainLine(text)) : undefined;
    let inGroup = group;
    if (marker?.kind === "open") {
      group = inGroup = { n: line, seq: lineSeq, title: marker.title, folded: marker.folded };
    } else if (marker?.kind === "close") group = undefined;
    if (options.render && line >= (options.renderFrom ?? 0)) {
      const rendered = renderAnsiLine(text, ansi);
      ansi = rendered.state;
      lines.push({
        n: line,
        html: rendered.html,
        seq: lineSeq,
        ...(lineAt !== undefined ? { at: lineAt } : {}),
        ...(!marker && mayBeError(text) && isErrorLine(plainLine(text))
          ? { error: true as const }
          : {}),
        ...(marker ? { mark: marker.kind } : {}),
        ...(inGroup ? { group: inGroup } : {}),
      });
    } else {
      ansi = advanceAnsi(text, ansi);
    }
  };
  const emitLong = (text: string) => {
    for (let i = 0; i < text.length || i === 0; i += MAX_LINE_CHARS) {
      emit(text.slice(i, i + MAX_LINE_CHARS));
    }
  };
  for (const chunk of chunks) {
    if (chunk.seq < seq) continue;
    if (chunk.seq > seq) {
      if (!options.bridgeGaps) break;
      bridgeGap(chunk.seq);
    }
    lineSeq = chunk.seq;
    const parts = (carry + chunk.data).split("\n");
    carry = parts.pop()!;
    // The first line went on from an earlier chunk when there was an unfinished one.
    lineAt = carryAt ?? chunk.at;
    parts.forEach((part, i) => {
      if (i > 0) lineAt = chunk.at;
      emitLong(part);
    });
    carryAt = carry === "" ? undefined : parts.length > 0 ? chunk.at : (carryAt ?? chunk.at);
    lineAt = carryAt ?? chunk.at;
    while (carry.length > MAX_LINE_CHARS) {
      emit(carry.slice(0, MAX_LINE_CHARS));
      carry = carry.slice(MAX_LINE_CHARS);
    }
    seq += 1;
  }
  if (options.bridgeGaps && options.gapUntil !== undefined && seq < options.gapUntil) {
    bridgeGap(options.gapUntil);
  }
  if (options.end && carry !== "") {
    emitLong(carry);
    carry = "";
  }
  if (carry === "") carryAt = undefined;
  return {
    cursor: {
      seq,
      line,
      carry,
      ansi,
      ...(carryAt !== undefined ? { carryAt } : {}),
      ...(group ? { group } : {}),
    },
    lines,
  };

  /** Chunks `seq` up to `next` are missing for good: the unfinished line ends, a gap line follows. */
  function bridgeGap(next: number) {
    if (carry !== "") emitLong(carry);
    carry = "";
    carryAt = undefined;
    const missing = next - seq;
    line += 1;
    if (options.render && line >= (options.renderFrom ?? 0)) {
      lines.push({
        n: line,
        seq,
        html: `<span class="gap">[Kozmic: ${missing} chunk${missing === 1 ? "" : "s"} of this log (from chunk ${seq}) could not be stored]</span>`,
      });
    }
    seq = next;
  }
}
