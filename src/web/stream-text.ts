/** Where a streamed answer is written: each write waits for the reader (backpressure). */
export interface TextOut {
  write(text: string): Promise<void>;
  /** Aborted when the reader has gone. */
  signal: AbortSignal;
}

/**
 * A response body written by `produce` as it goes. A slow reader slows the writes; a reader
 * that goes away aborts `signal`; a failure after the first byte cuts the response short
 * (the reader sees an error, never a log that looks complete).
 */
export function streamText(produce: (out: TextOut) => Promise<void>): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<string, string>();
  const writer = writable.getWriter();
  const gone = new AbortController();
  writer.closed.catch(() => gone.abort());
  void produce({ write: (text) => writer.write(text), signal: gone.signal })
    .then(
      () => writer.close(),
      (error: unknown) => {
        if (!gone.signal.aborted) console.error("kozmic web: a streamed answer failed", error);
        return writer.abort(error);
      },
    )
    // The reader went away: there is nothing left to close.
    .catch(() => undefined);
  return readable.pipeThrough(new TextEncoderStream());
}
