import type { LogSink } from "./log-sink.js";

/** A LogSink that prints to a terminal stream as output arrives. */
export function createTerminalSink(stream: NodeJS.WritableStream = process.stdout): LogSink {
  return {
    write(text) {
      stream.write(text);
    },
    flush() {
      return new Promise((resolve) => stream.write("", () => resolve()));
    },
  };
}
