import type { LogSink } from "./log-sink.js";

/** The last `maxChars` characters of a job's output, for the check run's progress text. */
export class LogTail implements LogSink {
  private buffer = "";
  private version = 0;

  constructor(private readonly maxChars = 60_000) {}

  write(text: string): void {
    this.buffer += text;
    this.version += 1;
    // Trim only once the buffer doubles, so appends stay amortised O(1).
    if (this.buffer.length > this.maxChars * 2) this.buffer = this.buffer.slice(-this.maxChars);
  }

  async flush(): Promise<void> {}

  get text(): string {
    return this.buffer.length > this.maxChars ? this.buffer.slice(-this.maxChars) : this.buffer;
  }

  /** Changes on every write: lets a poller skip updates when nothing new came. */
  get revision(): number {
    return this.version;
  }
}

/** One sink that writes to several, in order; flush waits for all. */
export function teeLogSink(...sinks: LogSink[]): LogSink {
  return {
    write(text) {
      for (const sink of sinks) sink.write(text);
    },
    async flush() {
      await Promise.all(sinks.map((sink) => sink.flush()));
    },
  };
}
