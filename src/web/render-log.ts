import type { JobRecord, LogSectionRecord } from "../store/port.js";
import type { LogLine, OpenGroup } from "./feed-log.js";
import { formatSeconds } from "./describe-status.js";
import {
  groupLogSections,
  sectionAt,
  type LineRange,
  type SectionHeader,
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
};

/**
 * One numbered line: its anchor, its time (shown with "Timestamps") and its text; with the
 * section it belongs to, for the live page's script. A line that looks like an error is
 * emphasised; a group's closing marker keeps its number but is not shown.
 */
function renderLogLine(line: LogLine, section?: string): Html {
  const data = section ? markup` data-section="${section}"` : "";
  const at =
    line.at !== undefined
      ? markup`<time class="ts" datetime="${new Date(line.at).toISOString()}">${new Date(line.at).toISOString().slice(11, 19)}</time>`
      : markup`<span class="ts"></span>`;
  const kind = line.mark ? " mark" : line.error ? " err" : "";
  return markup`<div class="line${kind}" id="L${line.n}"${data}${line.mark ? raw(" hidden") : ""}><a class="ln" href="#L${line.n}">${line.n}</a>${at}<span class="lc">${raw(line.html)}</span></div>`;
}

interface GroupBlock {
  group: OpenGroup;
  /** The window starts inside the group: its marker line is elsewhere. */
  continued: boolean;
  section?: string;
  body: Html[];
  hasError: boolean;
}

/**
 * Lines with their user groups folded as `<details class="group">`: the opening marker's
 * line is the group's title. A group only holds lines of the runner section its marker is
 * in, so no output can reach across a section's end.
 */
export function renderLogLines(
  lines: readonly LogLine[],
  sections: readonly LogSectionRecord[],
): Html {
  const out: Html[] = [];
  let open: GroupBlock | undefined;
  const close = () => {
    if (open) out.push(renderGroup(open));
    open = undefined;
  };
  for (const line of lines) {
    const record = sectionAt(sections, line.seq);
    const group =
      line.group && sectionAt(sections, line.group.seq) === record ? line.group : undefined;
    if (group?.n !== open?.group.n) {
      close();
      if (group) {
        open = {
          group,
          continued: line.n !== group.n,
          body: [],
          hasError: false,
          ...(record ? { section: record.name } : {}),
        };
      }
    }
    if (open && line.n === open.group.n) continue; // the marker is the group's title
    (open ? open.body : out).push(renderLogLine(line, record?.name));
    if (open && line.error) open.hasError = true;
  }
  close();
  return join(out, "\n");
}

function renderGroup(block: GroupBlock): Html {
  const { group } = block;
  const data = block.section ? markup` data-section="${block.section}"` : "";
  const folded = group.folded && !block.hasError;
  const title = block.continued
    ? markup`<summary><span class="group-title">${group.title}</span> <span class="group-more">(continued)</span></summary>`
    : markup`<summary id="L${group.n}"><span class="ln">${group.n}</span><span class="group-title">${group.title}</span></summary>`;
  return markup`<details class="group" data-group="${group.n}"${data}${folded ? "" : raw(" open")}>${title}
${join(block.body, "\n")}
</details>`;
}

/** The job's outcome as a section's, for a section the runner did not end. */
export function jobSectionOutcome(job: JobRecord): SectionStatus | undefined {
  if (job.status !== "completed" && job.status !== "errored") return undefined;
  return job.conclusion ?? "failure";
}

/** A section's `<details>` and its summary: title, state in words and, once ended, duration. */
function sectionOpening(header: SectionHeader, open: boolean, range?: LineRange): Html {
  const state = STATE_WORDS[header.state];
  const duration =
    header.endedAt !== undefined
      ? formatSeconds(Math.max(0, header.endedAt - header.startedAt) / 1000)
      : "";
  const lines = range ? markup` data-first="${range.first}" data-last="${range.last}"` : "";
  return markup`<details class="section section-${header.state}" data-section="${header.id}" data-start-seq="${header.startSeq}" data-started="${header.startedAt}"${lines}${open ? raw(" open") : ""}>
<summary><span class="section-title">${header.title}</span> <span class="section-state">${state}</span> <span class="section-time">${duration}</span></summary>`;
}

/** A button standing for lines not yet on the page; the page's script loads them. */
function renderMoreLines(first: number, last: number): Html | string {
  if (last < first) return "";
  const what = first === last ? `line ${first}` : `lines ${first}–${last}`;
  return markup`<button type="button" class="more" data-from="${first}" data-to="${last}" hidden>Show ${first === 1 ? "" : "earlier "}${what}</button>`;
}

/** A range of the whole log with the lines of it that are rendered (its end, or none). */
export interface RangeView extends LineRange {
  lines: LogLine[];
  open: boolean;
}

/**
 * The whole log: each range's header, a button for its lines not shown and the lines shown.
 * Lines outside every section sit directly in the log, as the live tail appends them.
 */
export function renderLogRanges(
  ranges: readonly RangeView[],
  sections: readonly LogSectionRecord[],
): Html {
  return join(
    ranges.map((range) => {
      const shownFrom = range.lines[0]?.n ?? range.last + 1;
      const body = markup`${renderMoreLines(range.first, shownFrom - 1)}
${renderLogLines(range.lines, sections)}`;
      if (!range.section) return body;
      return markup`${sectionOpening(range.section, range.open, range)}
${body}
</details>`;
    }),
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
  return join(
    groupLogSections(lines, sections, { final: false }).map((block) =>
      block.kind === "lines"
        ? renderLogLines(block.lines, sections)
        : markup`${sectionOpening(block, true)}
${renderLogLines(block.lines, sections)}
</details>`,
    ),
    "\n",
  );
}
