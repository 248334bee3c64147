import type { JobRecord } from "../store/port.js";
import type { SectionStatus } from "../core/log-section-marker.js";
import type { LogLine } from "./feed-log.js";
import { formatSeconds } from "./describe-status.js";
import {
  groupLogSections,
  startsFolded,
  type LogBlock,
  type LogEnd,
  type SectionState,
} from "./log-sections.js";
import { escapeHtml as e } from "./render-ansi.js";

const STATE_WORDS: Record<SectionState, string> = {
  success: "succeeded",
  failure: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
  timed_out: "timed out",
  running: "running",
  continues: "continues in the next part",
};

/** One numbered line: its anchor, its time (shown with "Timestamps") and its text. */
export function renderLogLine(line: LogLine): string {
  const kind = line.marker ? ` section-${line.marker.kind}` : "";
  const data =
    line.marker?.kind === "end"
      ? ` data-status="${line.marker.status}" data-at="${line.marker.at}"`
      : "";
  const at =
    line.at !== undefined
      ? `<time class="ts" datetime="${new Date(line.at).toISOString()}">${new Date(line.at).toISOString().slice(11, 19)}</time>`
      : `<span class="ts"></span>`;
  return `<div class="line${kind}" id="L${line.n}"${data}><a class="ln" href="#L${line.n}">${line.n}</a>${at}<span class="lc">${line.html}</span></div>`;
}

export function renderLogLines(lines: readonly LogLine[]): string {
  return lines.map(renderLogLine).join("\n");
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

function renderBlock(block: LogBlock, final: boolean): string {
  if (block.kind === "lines") return renderLogLines(block.lines);
  const { state, duration } = describeSection(block);
  const open = startsFolded(block.state, final) ? "" : " open";
  return `<details class="section section-${block.state}" data-section="${block.id}" data-started="${block.startedAt}"${open}>
<summary><span class="section-title">${e(block.title)}</span> <span class="section-state">${e(state)}</span> <span class="section-time">${block.endedAt !== undefined ? e(duration) : ""}</span></summary>
${renderLogLines(block.lines)}
</details>`;
}

/** A page's lines, folded into their sections. */
export function renderLogBlocks(lines: readonly LogLine[], end: LogEnd): string {
  return groupLogSections(lines, end)
    .map((block) => renderBlock(block, end.final))
    .join("\n");
}

/**
 * Lines for the live tail: sections that start in them come as open sections; lines before
 * the first (which belong to the section the page has open) come as plain lines, which the
 * page's script appends to that section.
 */
export function renderLiveLines(lines: readonly LogLine[]): string {
  return renderLogBlocks(lines, { final: false, isLast: true });
}
