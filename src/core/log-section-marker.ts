/**
 * The lines that split a job's log into sections (preparing, install, build). The runner
 * writes them into the log itself, so the raw log, the check run's text and the log page
 * all carry them; the log page folds each section under its title, with its status and
 * duration. Pure.
 *
 *   ##[section install 2026-11-30T11:05:21.300Z] Install: cache miss
 *   ...the install script's output...
 *   ##[end install success 2026-11-30T11:05:33.301Z]
 *
 * A section that has no end line ended when the next one started (successfully), or with
 * the job when it is the last.
 */

export type SectionId = "preparing" | "install" | "build";
export type SectionStatus = "success" | "failure" | "skipped" | "cancelled" | "timed_out";

export type SectionMarker =
  | { kind: "start"; id: SectionId; at: number; title: string }
  | { kind: "end"; id: SectionId; at: number; status: SectionStatus };

const IDS: readonly string[] = ["preparing", "install", "build"];
const STATUSES: readonly string[] = ["success", "failure", "skipped", "cancelled", "timed_out"];
const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;
const START = new RegExp(String.raw`^##\[section ([a-z_]+) (${ISO})\] (.{1,200})$`);
const END = new RegExp(String.raw`^##\[end ([a-z_]+) ([a-z_]+) (${ISO})\]$`);

/** The line (with its newline) that starts a section. */
export function sectionStartLine(id: SectionId, title: string, at: number): string {
  const oneLine = title.replace(/[\r\n]+/g, " ").slice(0, 200);
  return `##[section ${id} ${new Date(at).toISOString()}] ${oneLine}\n`;
}

/** The line (with its newline) that ends a section. */
export function sectionEndLine(id: SectionId, status: SectionStatus, at: number): string {
  return `##[end ${id} ${status} ${new Date(at).toISOString()}]\n`;
}

/** The marker a log line is, if it is one exactly (a trailing carriage return is allowed). */
export function parseSectionMarker(line: string): SectionMarker | undefined {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (!text.startsWith("##[")) return undefined;
  const start = START.exec(text);
  if (start) {
    const [, id, iso, title] = start;
    const at = Date.parse(iso!);
    if (!IDS.includes(id!) || Number.isNaN(at)) return undefined;
    return { kind: "start", id: id as SectionId, at, title: title! };
  }
  const end = END.exec(text);
  if (end) {
    const [, id, status, iso] = end;
    const at = Date.parse(iso!);
    if (!IDS.includes(id!) || !STATUSES.includes(status!) || Number.isNaN(at)) return undefined;
    return { kind: "end", id: id as SectionId, at, status: status as SectionStatus };
  }
  return undefined;
}
