import {
  sectionEndLine,
  sectionStartLine,
  type SectionId,
  type SectionStatus,
} from "../../src/core/log-section-marker.js";
import type { LogSink } from "./log-sink.js";

/**
 * Writes a job's section markers into its log: starting a section ends the one before it
 * (successfully, since the job went on), and end() closes the open one with the job's
 * outcome. Nothing is written for a section that is not open.
 */
export class SectionMarkers {
  private open: SectionId | undefined;

  constructor(
    private readonly log: LogSink,
    private readonly now: () => number = Date.now,
  ) {}

  start(id: SectionId, title: string): void {
    this.end("success");
    this.log.write(sectionStartLine(id, title, this.now()));
    this.open = id;
  }

  end(status: SectionStatus): void {
    if (this.open === undefined) return;
    this.log.write(sectionEndLine(this.open, status, this.now()));
    this.open = undefined;
  }
}
