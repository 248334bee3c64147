import type { LogSink } from "./log-sink.js";

export interface TerminalSink extends LogSink {
  /**
   * Names what runs now ("Install"), or nothing: while something runs and prints nothing,
   * the terminal shows how long it has been silent.
   */
  running(label?: string): void;
}

export interface TerminalOptions {
  /** A terminal redraws one status line in place; a pipe or file gets a line now and then. */
  tty?: boolean;
  /** Silence before a terminal shows the status line. */
  quietMs?: number;
  /** Silence between two lines on a pipe or in a file. */
  pipeEveryMs?: number;
  now?: () => number;
}

const CLEAR_LINE = "\r\x1b[2K";

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
  const quietMs = options.quietMs ?? 3_000;
  const pipeEveryMs = options.pipeEveryMs ?? 60_000;
  const now = options.now ?? Date.now;
  let label: string | undefined;
  let lastOutput = now();
  let statusShown = false;
  let timer: NodeJS.Timeout | undefined;

  const threshold = tty ? quietMs : pipeEveryMs;
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
    schedule(tty ? 1_000 : pipeEveryMs);
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
      stream.write(text);
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
