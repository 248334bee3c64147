import type { SectionId, SectionStatus } from "../core/log-section-marker.js";
import type { LogLine } from "./feed-log.js";

/** A section's state as the page shows it: its end, or that it has not ended (yet, here). */
export type SectionState = SectionStatus | "running" | "continues";

export type LogBlock =
  | { kind: "lines"; lines: LogLine[] }
  | {
      kind: "section";
      id: SectionId;
      title: string;
      startedAt: number;
      endedAt?: number;
      state: SectionState;
      /** The section's lines, its start and end markers included. */
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

/**
 * Splits numbered log lines at their section markers. Lines before the first marker (the
 * runner's own lines, or the end of a section begun in an earlier part) stay a plain block.
 * A section ends at its end marker, else successfully where the next starts, else with the
 * job (or it is still running, or goes on in the next part). Pure.
 */
export function groupLogSections(lines: readonly LogLine[], end: LogEnd): LogBlock[] {
  const blocks: LogBlock[] = [];
  let open: Extract<LogBlock, { kind: "section" }> | undefined;
  let plain: LogLine[] | undefined;
  for (const line of lines) {
    const marker = line.marker;
    if (marker?.kind === "start") {
      if (open) {
        open.state = "success";
        open.endedAt = marker.at;
      }
      plain = undefined;
      open = {
        kind: "section",
        id: marker.id,
        title: marker.title,
        startedAt: marker.at,
        state: "running",
        lines: [line],
      };
      blocks.push(open);
    } else if (open) {
      open.lines.push(line);
      if (marker?.kind === "end") {
        open.state = marker.status;
        open.endedAt = marker.at;
        open = undefined;
      }
    } else {
      if (!plain) blocks.push({ kind: "lines", lines: (plain = []) });
      plain.push(line);
    }
  }
  if (open) {
    if (!end.isLast) open.state = "continues";
    else if (end.final) {
      open.state = end.jobOutcome ?? "failure";
      if (end.finishedAt !== undefined) open.endedAt = end.finishedAt;
    }
  }
  return blocks;
}

/** Folded on a finished job: what succeeded or was skipped. The rest stays open. */
export function startsFolded(state: SectionState, final: boolean): boolean {
  return final && (state === "success" || state === "skipped");
}
