import type { JobRecord, LogSectionRecord } from "../store/port.js";
import type { LogLine } from "./feed-log.js";
import { formatSeconds } from "./describe-status.js";
import {
  groupLogSections,
  sectionAt,
  startsFolded,
  type LogBlock,
  type LogEnd,
  type SectionState,
  type SectionStatus,
} from "./log-sections.js";
import { markup, join, raw, type Html } from "./html.js";

const STATE_WORDS: Record<SectionState, string> = {
  success: "succeeded",
  failure: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
  timed_out: "timed out",
  running: "running",
  continues: "continues in the next part",
};

/**
 * One numbered line: its anchor, its time (shown with "Timestamps") and its text; with the
 * section it belongs to, for the live page's script.
 */
export function renderLogLine(line: LogLine, section?: string): Html {
  const data = section ? markup` data-section="${section}"` : "";
  const at =
    line.at !== undefined
      ? markup`<time class="ts" datetime="${new Date(line.at).toISOString()}">${new Date(line.at).toISOString().slice(11, 19)}</time>`
      : markup`<span class="ts"></span>`;
  return markup`<div class="line" id="L${line.n}"${data}><a class="ln" href="#L${line.n}">${line.n}</a>${at}<span class="lc">${raw(line.html)}</span></div>`;
}

export function renderLogLines(
  lines: readonly LogLine[],
  sections: readonly LogSectionRecord[] = [],
): Html {
  return join(
    lines.map((line) => renderLogLine(line, sectionAt(sections, line.seq)?.name)),
    "\n",
  );
}

/** The job's outcome as a section's, for a section the runner did not end. */
export function jobSectionOutcome(job: JobRecord): SectionStatus | undefined {
  if (job.status !== "completed" && job.status !== "errored") return undefined;
  return job.conclusion ?? "failure";
}

/** The state word and duration a section's summary shows. */
export function describeSection(block: Extract<LogBlock, { kind: "section" }>): {
  state: string;
  duration: string;
} {
  const seconds =
    block.endedAt !== undefined ? Math.max(0, block.endedAt - block.startedAt) / 1000 : undefined;
  return { state: STATE_WORDS[block.state], duration: formatSeconds(seconds) };
}

function renderBlock(block: LogBlock, final: boolean, sections: readonly LogSectionRecord[]): Html {
  if (block.kind === "lines") return renderLogLines(block.lines, sections);
  const { state, duration } = describeSection(block);
  const open = startsFolded(block.state, final) ? "" : " open";
  return markup`<details class="section section-${block.state}" data-section="${block.id}" data-start-seq="${block.startSeq}" data-started="${block.startedAt}"${open}>
<summary><span class="section-title">${block.title}</span> <span class="section-state">${state}</span> <span class="section-time">${block.endedAt !== undefined ? duration : ""}</span></summary>
${renderLogLines(block.lines, sections)}
</details>`;
}

/** A page's lines, folded into the sections the runner recorded. */
export function renderLogBlocks(
  lines: readonly LogLine[],
  sections: readonly LogSectionRecord[],
  end: LogEnd,
): Html {
  return join(
    groupLogSections(lines, sections, end).map((block) => renderBlock(block, end.final, sections)),
    "\n",
  );
}

/**
 * Lines for the live tail: sections that start in them come as open sections; lines of a
 * section begun earlier come as plain lines naming it, which the page's script appends to
 * that section.
 */
export function renderLiveLines(
  lines: readonly LogLine[],
  sections: readonly LogSectionRecord[],
): Html {
  return renderLogBlocks(lines, sections, { final: false, isLast: true });
}
