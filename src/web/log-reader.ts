import type { Store } from "../store/port.js";
import { feedLog, START_CURSOR, type LogCursor, type LogLine } from "./feed-log.js";

/** Chunks per page: at most 1 MiB of log (64 KiB chunks), so no page holds a whole 50 MB log. */
export const PAGE_CHUNKS = 16;

export interface LogPage {
  /** 0-based; page p holds the lines completed in chunks [p*PAGE_CHUNKS, (p+1)*PAGE_CHUNKS). */
  page: number;
  lines: LogLine[];
  /** The cursor after this page: a live tail continues from here. */
  next: LogCursor;
  isLast: boolean;
}

/**
 * Pages of job logs, remembering where each page starts (line number, unfinished line,
 * colours) so that later pages and live tails do not read the whole log again. Chunks never
 * change once written, so what is remembered stays true.
 */
export class LogReader {
  private readonly starts = new Map<string, LogCursor[]>();

  constructor(
    private readonly store: Store,
    private readonly maxJobs = 200,
  ) {}

  /**
   * A page, or `"last"` for the end of the log; undefined when it does not exist. `final`:
   * the job has ended, so no chunk is still to come.
   */
  async readPage(
    jobId: string,
    page: number | "last",
    final: boolean,
  ): Promise<LogPage | undefined> {
    const p = page === "last" ? await this.lastPage(jobId, final) : page;
    const start = await this.pageStart(jobId, p, final);
    if (!start) return undefined;
    const from = p * PAGE_CHUNKS;
    const chunks = (await this.store.readLog(jobId, from, PAGE_CHUNKS)).filter(
      (c) => c.seq < from + PAGE_CHUNKS,
    );
    const isLast = !(await this.hasChunksFrom(jobId, from + PAGE_CHUNKS));
    const fed = feedLog(start, chunks, {
      render: true,
      end: final && isLast,
      bridgeGaps: final,
      gapUntil: isLast ? undefined : from + PAGE_CHUNKS,
    });
    return { page: p, lines: fed.lines, next: fed.cursor, isLast };
  }

  /** The cursor at chunk `seq`, where a live tail resumes; undefined past the stored chunks. */
  async cursorAt(jobId: string, seq: number, final: boolean): Promise<LogCursor | undefined> {
    const start = await this.pageStart(jobId, Math.floor(seq / PAGE_CHUNKS), final);
    if (!start) return undefined;
    if (seq === start.seq) return start;
    const chunks = (await this.store.readLog(jobId, start.seq, seq - start.seq)).filter(
      (c) => c.seq < seq,
    );
    // In a finished log, a seq past the last chunk is no place to resume from.
    if (final && !(await this.hasChunksFrom(jobId, seq))) {
      if (chunks.length === 0 || chunks[chunks.length - 1]!.seq !== seq - 1) return undefined;
    }
    const fed = feedLog(start, chunks, {
      render: false,
      end: false,
      bridgeGaps: final,
      gapUntil: seq,
    });
    return fed.cursor.seq === seq ? fed.cursor : undefined;
  }

  private async hasChunksFrom(jobId: string, seq: number): Promise<boolean> {
    return (await this.store.readLog(jobId, seq, 1)).length > 0;
  }

  private async lastPage(jobId: string, final: boolean): Promise<number> {
    let p = this.known(jobId).length - 1;
    while (await this.hasChunksFrom(jobId, (p + 1) * PAGE_CHUNKS)) {
      if (!(await this.pageStart(jobId, p + 1, final))) break;
      p += 1;
    }
    return p;
  }

  /** Where page p starts; undefined when the chunks before it are not all there (yet). */
  private async pageStart(
    jobId: string,
    p: number,
    final: boolean,
  ): Promise<LogCursor | undefined> {
    const known = this.known(jobId);
    while (known.length <= p) {
      const at = known.length - 1;
      const prev = known[at]!;
      const end = prev.seq + PAGE_CHUNKS;
      const chunks = (await this.store.readLog(jobId, prev.seq, PAGE_CHUNKS)).filter(
        (c) => c.seq < end,
      );
      const complete = final ? await this.hasChunksFrom(jobId, end) : chunks.length === PAGE_CHUNKS;
      if (!complete) return undefined;
      const fed = feedLog(prev, chunks, {
        render: false,
        end: false,
        bridgeGaps: final,
        gapUntil: end,
      });
      // Another request may have got here first while this one was reading.
      if (known.length === at + 1) known.push(fed.cursor);
    }
    return known[p];
  }

  private known(jobId: string): LogCursor[] {
    let known = this.starts.get(jobId);
    if (known) {
      this.starts.delete(jobId); // re-inserted below: the map's order is least recently used first
    } else {
      known = [START_CURSOR];
      if (this.starts.size >= this.maxJobs) {
        const oldest = this.starts.keys().next().value;
        if (oldest !== undefined) this.starts.delete(oldest);
      }
    }
    this.starts.set(jobId, known);
    return known;
  }
}
