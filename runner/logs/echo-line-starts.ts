import { ECHO_END, ECHO_START } from "../../src/core/shell/echo-script.js";
import type { LogSink } from "./log-sink.js";

/** Most echo text kept waiting for a line's end: an echo is a few lines of a script. */
export const MAX_WAITING = 64 * 1024;

export interface EchoLineSink extends LogSink {
  /** The step's output has ended: what waits is written (after a newline, if a line is open). */
  end(): void;
}

/**
 * Keeps a step's own output together: a command's echo that arrives in the middle of a
 * line (the last command printed no newline) waits for that line's end. Else a secret
 * printed in two pieces by two commands would have the echo between its pieces, and
 * the masker, which sees the stream, would not see the secret. Every byte still reaches
 * `inner` (masking included); only where an echo lands changes.
 */
export function echoAtLineStarts(inner: LogSink): EchoLineSink {
  let atLineStart = true;
  let inEcho = false;
  let waiting = ""; // echoes, until the open line ends
  let carried = ""; // a possible start of a marker at the end of a write
  const emit = (text: string) => {
    if (text === "") return;
    inner.write(text);
    atLineStart = text.endsWith("\n");
  };

  function write(chunk: string): void {
    let text = carried + chunk;
    carried = "";
    let out = "";
    while (text !== "") {
      if (inEcho) {
        const end = text.indexOf(ECHO_END);
        const taken = end < 0 ? text.length - partialSuffix(text, ECHO_END) : end + ECHO_END.length;
        waiting += text.slice(0, taken);
        text = text.slice(taken);
        if (end >= 0) inEcho = false;
        if (waiting.length > MAX_WAITING) {
          // Not an echo after all (a program's own output): it goes out as it came.
          out += waiting;
          waiting = "";
          inEcho = false;
        }
        if (inEcho) {
          carried = text;
          break;
        }
        continue;
      }
      const newline = waiting === "" ? -1 : text.indexOf("\n");
      const start = text.indexOf(ECHO_START);
      if (newline >= 0 && (start < 0 || newline < start)) {
        out += text.slice(0, newline + 1) + waiting;
        waiting = "";
        text = text.slice(newline + 1);
        continue;
      }
      if (start < 0) {
        const keep = partialSuffix(text, ECHO_START);
        out += text.slice(0, text.length - keep);
        carried = text.slice(text.length - keep);
        break;
      }
      out += text.slice(0, start);
      text = text.slice(start);
      const lineOpen = out === "" ? !atLineStart : !out.endsWith("\n");
      if (lineOpen || waiting !== "") inEcho = true;
      else {
        // At a line's start an echo is written where it is.
        out += ECHO_START;
        text = text.slice(ECHO_START.length);
      }
    }
    emit(out);
  }

  return {
    write,
    end() {
      const rest = carried;
      carried = "";
      inEcho = false;
      if (rest) emit(rest);
      if (waiting) emit((atLineStart ? "" : "\n") + waiting);
      waiting = "";
    },
    flush: () => inner.flush(),
  };
}

/** How many of text's last characters begin `marker` (kept for the next write). */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--)
    if (marker.startsWith(text.slice(text.length - n))) return n;
  return 0;
}
