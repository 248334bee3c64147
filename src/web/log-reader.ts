import { isErrorLine, mayBeError } from "../core/log-line-kinds.js";
import type { Store } from "../store/port.js";
import { feedLog, plainLine, START_CURSOR, type LogCursor, type LogLine } from "./feed-log.js";

/** The most lines one answer renders: a window of the log. */
export const WINDOW_LINES = 2000;
/** The most HTML one window holds; a window of very long lines keeps its end within it. */
export const MAX_WINDOW_HTML = 1024 * 1024;
/** A cursor is remembered every this many bytes of log, where later reads start from. */
const CHECKPOINT_BYTES = 256 * 1024;
/** Chunks read at a time (at most 1 MiB): no read holds a whole log. */
const READ_BATCH = 16;
/** Logs whose outline is remembered (the least recently read is forgotten first). */
const MAX_JOBS = 64;
/** Error lines remembered per log (their numbers only). */
const MAX_ERRORS = 10_000;

/**
 * What is known of a log after reading it once: where every chunk starts (line number),
 * cursors to resume from every CHECKPOINT_BYTES, and which lines look like errors.
 */
export interface LogOutline {
  /** The cursor after the last chunk read (a live tail continues from here). */
  end: LogCursor;
  /** Lines of the log as shown: with a finished log's unfinished last line. */
  lines: number;
  /** Lines complete before chunk `seq`, for seq up to `end.seq` (there: `lines`). */
  lineAt(seq: number): number | undefined;
  /** Line numbers that look like errors, in order (the first MAX_ERRORS). */
  errors: readonly number[];
}

interface LogIndex {
  checkpoints: LogCursor[];
  lineAt: number[];
  end: LogCursor;
  sinceCheckpoint: number;
  errors: number[];
  /** Reads of this index one after another (another request may be extending it). */
  queue: Promise<unknown>;
}

export interface SearchResult {
  /** Numbers of the matching lines, in order. */
  lines: number[];
  /** More lines matched than were returned. */
  capped: boolean;
}

/**
 * Reads job logs as numbered lines, windows at a time: the first read of a log goes
 * through it once (READ_BATCH chunks at a time) and remembers its outline, so later windows
 * and live tails start from a nearby cursor. Chunks never change once written, so what is
 * remembered stays true; a running job's outline is extended by later reads.
 */
export class LogReader {
  private readonly indexes = new Map<string, LogIndex>();

  constructor(private readonly store: Store) {}

  /** The log's outline, read up to its last stored chunk. `final`: the job has ended. */
  async outline(jobId: string, final: boolean): Promise<LogOutline> {
    const index = this.known(jobId);
    const run = index.queue.then(() => this.extend(jobId, index, final));
    index.queue = run.catch(() => undefined);
    await run;
    const end = index.end;
    const lines = end.line + (final && end.carry !== "" ? 1 : 0);
    return {
      end,
      lines,
      lineAt: (seq) => (seq < end.seq ? index.lineAt[seq] : seq === end.seq ? lines : undefined),
      errors: index.errors,
    };
  }

  /**
   * Lines `from` to `to` (1-based, inclusive) rendered, as far as the log has them: at most
   * WINDOW_LINES and MAX_WINDOW_HTML, taken from the end of the range.
   */
  async readLines(jobId: string, from: number, to: number, final: boolean): Promise<LogLine[]> {
    const outline = await this.outline(jobId, final);
    const last = Math.min(to, outline.lines);
    const first = Math.max(1, from, last - WINDOW_LINES + 1);
    if (first > last) return [];
    const index = this.known(jobId);
    let cursor = checkpointBefore(index.checkpoints, (c) => c.line < first);
    const lines: LogLine[] = [];
    let html = 0;
    while (cursor.line < last && cursor.seq < outline.end.seq) {
      const chunks = await this.readBefore(jobId, cursor.seq, outline.end.seq);
      if (chunks.length === 0) break;
      const fed = feedLog(cursor, chunks, {
        render: true,
        renderFrom: first,
        end: final && chunks[chunks.length - 1]!.seq + 1 >= outline.end.seq,
        bridgeGaps: final,
      });
      for (const line of fed.lines) {
        if (line.n > last) break;
        lines.push(line);
        html += line.html.length;
        while (html > MAX_WINDOW_HTML && lines.length > 1) html -= lines.shift()!.html.length;
      }
      cursor = fed.cursor;
    }
    // A finished log's unfinished last line, when no chunk was left to read with it.
    if (final && cursor.line < last && cursor.carry !== "") {
      lines.push(...feedLog(cursor, [], { render: true, end: true, bridgeGaps: true }).lines);
    }
    return lines;
  }

  /** The cursor at chunk `seq`, where a live tail resumes; undefined past the stored chunks. */
  async cursorAt(jobId: string, seq: number, final: boolean): Promise<LogCursor | undefined> {
    const outline = await this.outline(jobId, final);
    if (seq > outline.end.seq) return undefined;
    if (seq === outline.end.seq) return outline.end;
    let cursor = checkpointBefore(this.known(jobId).checkpoints, (c) => c.seq <= seq);
    while (cursor.seq < seq) {
      const chunks = await this.readBefore(jobId, cursor.seq, seq);
      cursor = feedLog(cursor, chunks, {
        render: false,
        end: false,
        bridgeGaps: final,
        gapUntil: seq,
      }).cursor;
      if (chunks.length < READ_BATCH) break;
    }
    return cursor.seq === seq ? cursor : undefined;
  }

  /**
   * The lines whose plain text holds `query` (case-insensitive), through the whole log a
   * batch of chunks at a time; at most `limit` of them.
   */
  async search(jobId: string, query: string, final: boolean, limit: number): Promise<SearchResult> {
    const outline = await this.outline(jobId, final);
    const needle = query.toLowerCase();
    const lines: number[] = [];
    let capped = false;
    const onLine = (n: number, raw: string) => {
      if (!plainLine(raw).toLowerCase().includes(needle)) return;
      if (lines.length < limit) lines.push(n);
      else capped = true;
    };
    let cursor = START_CURSOR;
    while (!capped && cursor.seq < outline.end.seq) {
      const chunks = await this.readBefore(jobId, cursor.seq, outline.end.seq);
      if (chunks.length === 0) break;
      cursor = feedLog(cursor, chunks, {
        render: false,
        end: final && chunks[chunks.length - 1]!.seq + 1 >= outline.end.seq,
        bridgeGaps: final,
        onLine,
      }).cursor;
    }
    return { lines, capped };
  }

  /** A batch of chunks from `seq`, those before `end` only. */
  private async readBefore(jobId: string, seq: number, end: number) {
    return (await this.store.readLog(jobId, seq, READ_BATCH)).filter((c) => c.seq < end);
  }

  /** Reads the chunks after the index's end, one at a time, remembering where each starts. */
  private async extend(jobId: string, index: LogIndex, final: boolean): Promise<void> {
    const onLine = (n: number, raw: string) => {
      if (index.errors.length < MAX_ERRORS && mayBeError(raw) && isErrorLine(plainLine(raw)))
        index.errors.push(n);
    };
    for (;;) {
      const chunks = await this.store.readLog(jobId, index.end.seq, READ_BATCH);
      for (const chunk of chunks) {
        if (chunk.seq > index.end.seq) {
          // A missing chunk: in a finished log it never comes (a gap line), else wait for it.
          if (!final) return;
          const before = index.end.line;
          for (let s = index.end.seq; s < chunk.seq; s++) index.lineAt[s] = before;
          index.end = feedLog(index.end, [], {
            render: false,
            end: false,
            bridgeGaps: true,
            gapUntil: chunk.seq,
          }).cursor;
        }
        index.lineAt[chunk.seq] = index.end.line;
        index.end = feedLog(index.end, [chunk], {
          render: false,
          end: false,
          bridgeGaps: final,
          onLine,
        }).cursor;
        index.sinceCheckpoint += chunk.data.length;
        if (index.sinceCheckpoint >= CHECKPOINT_BYTES) {
          index.checkpoints.push(index.end);
          index.sinceCheckpoint = 0;
        }
      }
      if (chunks.length < READ_BATCH) return;
    }
  }

  private known(jobId: string): LogIndex {
    let index = this.indexes.get(jobId);
    if (index) {
      this.indexes.delete(jobId); // re-inserted below: the map's order is least recently used first
    } else {
      index = {
        checkpoints: [START_CURSOR],
        lineAt: [],
        end: START_CURSOR,
        sinceCheckpoint: 0,
        errors: [],
        queue: Promise.resolve(),
      };
      if (this.indexes.size >= MAX_JOBS) {
        const oldest = this.indexes.keys().next().value;
        if (oldest !== undefined) this.indexes.delete(oldest);
      }
    }
    this.indexes.set(jobId, index);
    return index;
  }
}

/** The last checkpoint that `before` accepts (checkpoints are in order; the first is the start). */
function checkpointBefore(
  checkpoints: readonly LogCursor[],
  before: (cursor: LogCursor) => boolean,
): LogCursor {
  let lo = 0;
  let hi = checkpoints.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (before(checkpoints[mid]!)) lo = mid;
    else hi = mid - 1;
  }
  return checkpoints[lo]!;
}
