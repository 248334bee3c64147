import { withoutEscapes } from "../../src/core/plain-log-text.js";
import type { LogSink } from "./log-sink.js";

export interface TerminalSink extends LogSink {
  /**
   * Names what runs now ("Install"), or nothing: while something runs and prints nothing,
   * the terminal shows how long it has been silent.
   */
  running(label?: string): void;
}

export interface TerminalOptions {
  /**
   * A terminal redraws one status line in place and gets colours; a pipe or file gets a
   * line now and then, and text without escapes (unless FORCE_COLOR is set).
   */
  tty?: boolean;
  /** Keep escapes (colours) on a pipe or in a file (FORCE_COLOR set, not 0). */
  forceColor?: boolean;
  now?: () => number;
}

/** Silence before a terminal shows the status line. */
const QUIET_MS = 3_000;
/** Silence between two lines on a pipe or in a file. */
const PIPE_EVERY_MS = 60_000;

const CLEAR_LINE = "\r\x1b[2K";
/** The start of an escape that the next chunk completes (an OSC is held up to 256 characters). */
// eslint-disable-next-line no-control-regex
const PARTIAL_ESCAPE = /\x1b(\[[0-9;:?]*[ -/]*|\][^\x07\x1b]{0,256})?$/;

/** Removes escapes from a stream of chunks, holding back one split between two chunks. */
function escapeStripper(): (text: string) => string {
  let held = "";
  return (text) => {
    const joined = held + text;
    const partial = PARTIAL_ESCAPE.exec(joined);
    held = partial ? partial[0] : "";
    return withoutEscapes(partial ? joined.slice(0, partial.index) : joined);
  };
}

function forceColorFromEnv(): boolean {
  const value = process.env.FORCE_COLOR;
  return value !== undefined && value !== "0" && value !== "false";
}

/**
 * A LogSink that prints to a terminal stream as output arrives, and says how long a running
 * step has been silent: a status line redrawn every second on a terminal (erased before the
 * next output), a line every minute elsewhere.
 */
export function createTerminalSink(
  stream: NodeJS.WritableStream = process.stdout,
  options: TerminalOptions = {},
): TerminalSink {
  const tty = options.tty ?? (stream as { isTTY?: boolean }).isTTY === true;
  const plain = !tty && !(options.forceColor ?? forceColorFromEnv()) ? escapeStripper() : undefined;
  const now = options.now ?? Date.now;
  let label: string | undefined;
  let lastOutput = now();
  let statusShown = false;
  let timer: NodeJS.Timeout | undefined;

  const threshold = tty ? QUIET_MS : PIPE_EVERY_MS;
  // One timer while a step runs; output only moves `lastOutput`, so a busy step costs no
  // timer work per chunk: the timer, when it fires early, waits out the rest of the silence.
  const tick = () => {
    timer = undefined;
    if (label === undefined) return;
    const silent = now() - lastOutput;
    if (silent < threshold) return schedule(threshold - silent);
    const status = `${label}: ${Math.floor(silent / 1000)}s without output`;
    if (tty) {
      stream.write(`${CLEAR_LINE}… ${status}`);
      statusShown = true;
    } else {
      stream.write(`… ${status}\n`);
    }
    schedule(tty ? 1_000 : PIPE_EVERY_MS);
  };
  const schedule = (ms: number) => {
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const clearStatus = () => {
    if (!statusShown) return;
    stream.write(CLEAR_LINE);
    statusShown = false;
  };

  return {
    write(text) {
      clearStatus();
      stream.write(plain ? plain(text) : text);
      lastOutput = now();
    },
    running(next) {
      clearStatus();
      label = next;
      lastOutput = now();
      clearTimeout(timer);
      timer = undefined;
      if (label !== undefined) schedule(threshold);
    },
    flush() {
      return new Promise((resolve) => stream.write("", () => resolve()));
    },
  };
}
