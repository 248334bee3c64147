import { isFinal } from "../core/job-state.js";
import type { JobRecord, LogSectionRecord } from "../store/port.js";
import { WINDOW_LINES, type LogReader } from "./log-reader.js";
import { isFailed, outlineRanges, startsFolded, type LineRange } from "./log-sections.js";
import { jobSectionOutcome, type RangeView } from "./render-log.js";

/** A folded range this short comes with its lines (so small logs need no script)... */
const SMALL_RANGE = 300;
/** ...while the page holds at most this many lines of folded ranges. */
const FOLDED_BUDGET = 2000;

export interface LogView {
  ranges: RangeView[];
  sections: LogSectionRecord[];
  lineCount: number;
  nextSeq: number;
  jumps?: { firstError?: number; end: number };
}

/**
 * The job page's log: every range's header, the end of each open one (a failed section's
 * end, a running section's newest lines) and the whole of short folded ones.
 */
export async function readLogView(
  reader: LogReader,
  store: {
    readLogSections(jobId: string): Promise<LogSectionRecord[]>;
  },
  job: JobRecord,
): Promise<LogView> {
  const final = isFinal(job.status);
  const outline = await reader.outline(job.id, final);
  // Read after the chunks: a section whose chunks were read is recorded by now.
  const sections = await store.readLogSections(job.id);
  const end = { final, jobOutcome: jobSectionOutcome(job), finishedAt: job.finishedAt };
  const ranges = outlineRanges(
    sections,
    { lines: outline.lines, endSeq: outline.end.seq, lineAt: outline.lineAt },
    end,
  );
  let budget = FOLDED_BUDGET;
  const views = await Promise.all(
    ranges.map(async (range): Promise<RangeView> => {
      const open = !range.section || !startsFolded(range.section.state, final);
      const size = range.last - range.first + 1;
      let from: number | undefined;
      if (open) from = Math.max(range.first, range.last - WINDOW_LINES + 1);
      else if (size <= SMALL_RANGE && size <= budget) {
        budget -= size;
        from = range.first;
      }
      const lines =
        from === undefined || size <= 0
          ? []
          : await reader.readLines(job.id, from, range.last, final);
      return { ...range, open, lines };
    }),
  );
  const failed = ranges.filter((r) => r.section && isFailed(r.section.state)).at(-1);
  const failing =
    failed ?? (final && job.conclusion !== "success" ? wholeLog(outline.lines) : undefined);
  return {
    ranges: views,
    sections,
    lineCount: outline.lines,
    nextSeq: outline.end.seq,
    ...(failing && failing.last >= failing.first
      ? {
          jumps: {
            end: failing.last,
            ...firstIn(outline.errors, failing),
          },
        }
      : {}),
  };
}

function wholeLog(lines: number): LineRange {
  return { first: 1, last: lines };
}

function firstIn(errors: readonly number[], range: LineRange): { firstError?: number } {
  const n = errors.find((e) => e >= range.first && e <= range.last);
  return n === undefined ? {} : { firstError: n };
}
