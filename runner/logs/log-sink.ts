/**
 * Where a job's output goes, in order: the terminal for `kozmic run`, the store (in
 * bounded numbered chunks) for the runner daemon. Script output and Kozmic's own phase
 * lines ("==> install skipped: cache hit ...") share one stream.
 */
export interface LogSink {
  /** Appends output. Never throws; a sink that cannot keep up buffers within its bounds. */
  write(text: string): void;
  /** Resolves when everything written so far is stored. */
  flush(): Promise<void>;
}
