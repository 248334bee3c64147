import type { LogSectionRecord } from "../store/port.js";
import type { LogLine } from "./feed-log.js";

export type SectionId = LogSectionRecord["name"];
export type SectionStatus = NonNullable<LogSectionRecord["conclusion"]>;

/** A section's state as the page shows it: its end, or that it has not ended (yet, here). */
export type SectionState = SectionStatus | "running" | "continues";

export type LogBlock =
  | { kind: "lines"; lines: LogLine[] }
  | {
      kind: "section";
      id: SectionId;
      /** The first chunk of the section, which names it among the job's attempts. */
      startSeq: number;
      title: string;
      startedAt: number;
      endedAt?: number;
      state: SectionState;
      lines: LogLine[];
    };

export interface LogEnd {
  /** The job has ended. */
  final: boolean;
  /** These lines end the stored log (no later part). */
  isLast: boolean;
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
 * of its chunks; lines outside every section, and those of a section that began in an
 * earlier part, stay plain. Pure.
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
        open = { record, block: sectionBlock(record, end) };
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

function sectionBlock(
  record: LogSectionRecord,
  end: LogEnd,
): Extract<LogBlock, { kind: "section" }> {
  const block: Extract<LogBlock, { kind: "section" }> = {
    kind: "section",
    id: record.name,
    startSeq: record.startSeq,
    title: record.title,
    startedAt: record.startedAt,
    state: record.conclusion ?? "running",
    lines: [],
  };
  if (record.endedAt !== undefined) block.endedAt = record.endedAt;
  if (record.conclusion === undefined) {
    if (!end.isLast) block.state = "continues";
    else if (end.final) {
      block.state = end.jobOutcome ?? "failure";
      if (end.finishedAt !== undefined) block.endedAt = end.finishedAt;
    }
  }
  return block;
}

/** Folded on a finished job: what succeeded or was skipped. The rest stays open. */
export function startsFolded(state: SectionState, final: boolean): boolean {
  return final && (state === "success" || state === "skipped");
}
