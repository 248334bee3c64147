import type { LogSink } from "./log-sink.js";
import type { SectionConclusion, SectionName, SectionRecorder } from "./section-recorder.js";
import type { TerminalSink } from "./terminal-sink.js";

const NAMES: Record<SectionName, string> = {
  preparing: "Preparing",
  install: "Install",
  services: "Services",
  build: "Build",
};

/** How a section ended, in words after its name: "Install done in 3.4s". */
export function sectionEndLine(
  name: SectionName,
  conclusion: SectionConclusion,
  ms: number,
): string {
  const took = `${(ms / 1000).toFixed(1)}s`;
  const words: Record<SectionConclusion, string> = {
    success: `✓ ${NAMES[name]} done in ${took}`,
    skipped: `– ${NAMES[name]} skipped`,
    failure: `✗ ${NAMES[name]} failed after ${took}`,
    timed_out: `✗ ${NAMES[name]} timed out after ${took}`,
    cancelled: `✗ ${NAMES[name]} cancelled after ${took}`,
  };
  return words[conclusion];
}

/**
 * `kozmic run`'s sections: a header when one starts and its duration when it ends, written
 * through `log` (after the masker, in order with the output); the terminal is told what
 * runs, for its silence indicator.
 */
export function terminalSections(
  log: LogSink,
  terminal: Pick<TerminalSink, "running">,
  now: () => number = Date.now,
): SectionRecorder {
  let open: { name: SectionName; startedAt: number } | undefined;
  const recorder: SectionRecorder = {
    start(name, title) {
      recorder.end("success");
      open = { name, startedAt: now() };
      log.write(`\n▶ ${title.replace(/[\r\n]+/g, " ")}\n`);
      terminal.running(NAMES[name]);
    },
    end(conclusion) {
      if (!open) return;
      const { name, startedAt } = open;
      open = undefined;
      terminal.running(undefined);
      log.write(`${sectionEndLine(name, conclusion, now() - startedAt)}\n`);
    },
    flush: () => Promise.resolve(),
  };
  return recorder;
}
