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

  const silentFor = () => Math.floor((now() - lastOutput) / 1000);
  const tick = () => {
    if (label === undefined) return;
    const status = `${label}: ${silentFor()}s without output`;
    if (tty) {
      stream.write(`${CLEAR_LINE}… ${status}`);
      statusShown = true;
    } else {
      stream.write(`… ${status}\n`);
    }
    timer = setTimeout(tick, tty ? 1_000 : pipeEveryMs);
    timer.unref();
  };
  const rearm = () => {
    clearTimeout(timer);
    timer = undefined;
    if (label === undefined) return;
    timer = setTimeout(tick, tty ? quietMs : pipeEveryMs);
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
      rearm();
    },
    running(next) {
      clearStatus();
      label = next;
      lastOutput = now();
      rearm();
    },
    flush() {
      return new Promise((resolve) => stream.write("", () => resolve()));
    },
  };
}
