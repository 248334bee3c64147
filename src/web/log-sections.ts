import type { LogSectionRecord } from "../store/port.js";
import type { LogLine } from "./feed-log.js";

export type SectionStatus = NonNullable<LogSectionRecord["conclusion"]>;

/** A section's state as the page shows it: its end, or that it has not ended (yet, here). */
export type SectionState = SectionStatus | "running";

/** A section as its header shows it. */
export interface SectionHeader {
  id: LogSectionRecord["name"];
  /** The first chunk of the section, which names it among the job's attempts. */
  startSeq: number;
  title: string;
  startedAt: number;
  endedAt?: number;
  state: SectionState;
}

export type LogBlock =
  { kind: "lines"; lines: LogLine[] } | ({ kind: "section"; lines: LogLine[] } & SectionHeader);

export interface LogEnd {
  /** The job has ended. */
  final: boolean;
  /** What a section the runner never ended ended with: the job's outcome. */
  jobOutcome?: SectionStatus;
  finishedAt?: number;
}

/** The section whose chunks hold chunk `seq`, if any (the runner's records, in start order). */
export function sectionAt(
  sections: readonly LogSectionRecord[],
  seq: number,
): LogSectionRecord | undefined {
  let found: LogSectionRecord | undefined;
  for (const section of sections) {
    if (section.startSeq > seq) break;
    if (section.endSeq === undefined || seq < section.endSeq) found = section;
  }
  return found;
}

/**
 * Splits numbered log lines into the sections the runner recorded beside the log (never
 * into sections the log's text claims: a job can print anything). A section is the lines
 * of its chunks; lines outside every section, and those of a section that began before
 * them (a live tail's), stay plain. Pure.
 */
export function groupLogSections(
  lines: readonly LogLine[],
  sections: readonly LogSectionRecord[],
  end: LogEnd,
): LogBlock[] {
  const blocks: LogBlock[] = [];
  const firstSeq = lines[0]?.seq ?? 0;
  let open: { record: LogSectionRecord; block: Extract<LogBlock, { kind: "section" }> } | undefined;
  let plain: LogLine[] | undefined;
  for (const line of lines) {
    const record = sectionAt(sections, line.seq);
    if (record && record.startSeq >= firstSeq) {
      if (open?.record !== record) {
        open = { record, block: { kind: "section", lines: [], ...sectionHeader(record, end) } };
        blocks.push(open.block);
        plain = undefined;
      }
      open.block.lines.push(line);
    } else {
      open = undefined;
      if (!plain) blocks.push({ kind: "lines", lines: (plain = []) });
      plain.push(line);
    }
  }
  return blocks;
}

/** A section's header: what the runner recorded, and for one it never ended, the job's end. */
function sectionHeader(record: LogSectionRecord, end: LogEnd): SectionHeader {
  const block: SectionHeader = {
    id: record.name,
    startSeq: record.startSeq,
    title: record.title,
    startedAt: record.startedAt,
    state: record.conclusion ?? "running",
  };
  if (record.endedAt !== undefined) block.endedAt = record.endedAt;
  if (record.conclusion === undefined && end.final) {
    block.state = end.jobOutcome ?? "failure";
    if (end.finishedAt !== undefined) block.endedAt = end.finishedAt;
  }
  return block;
}

/** Folded on a finished job: what succeeded or was skipped. The rest stays open. */
export function startsFolded(state: SectionState, final: boolean): boolean {
  return final && (state === "success" || state === "skipped");
}

/** A failure the reader came for: the page opens it at its end. */
export function isFailed(state: SectionState): boolean {
  return state === "failure" || state === "timed_out" || state === "cancelled";
}

/** A run of the log's lines `first`..`last` (empty when last < first): a section's, or none's. */
export interface LineRange {
  first: number;
  last: number;
  section?: SectionHeader;
}

/** What the ranges are cut from: the log's line count and where its chunks start. */
export interface OutlineLines {
  /** Lines of the log as shown. */
  lines: number;
  /** The chunk after the last one read. */
  endSeq: number;
  /** Lines complete before chunk `seq` (seq <= endSeq). */
  lineAt(seq: number): number | undefined;
}

/**
 * The whole log as line ranges: every section the runner recorded (those whose output has
 * begun, while the job runs) and the lines between them. Pure.
 */
export function outlineRanges(
  sections: readonly LogSectionRecord[],
  outline: OutlineLines,
  end: LogEnd,
): LineRange[] {
  const ranges: LineRange[] = [];
  let next = 1;
  const plainUntil = (last: number) => {
    if (last >= next) ranges.push({ first: next, last });
    next = Math.max(next, last + 1);
  };
  for (const record of sections) {
    if (!end.final && record.startSeq >= outline.endSeq) break;
    const first = Math.max(next, (outline.lineAt(record.startSeq) ?? outline.lines) + 1);
    const endLine = record.endSeq === undefined ? undefined : outline.lineAt(record.endSeq);
    const last = Math.max(first - 1, Math.min(endLine ?? outline.lines, outline.lines));
    plainUntil(first - 1);
    ranges.push({ first, last, section: sectionHeader(record, end) });
    next = last + 1;
  }
  plainUntil(outline.lines);
  return ranges;
}
