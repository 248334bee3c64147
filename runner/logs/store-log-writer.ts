import { setTimeout as sleep } from "node:timers/promises";
import { InfrastructureError } from "../../src/core/errors.js";
import { DEFAULT_LOG_CAP_BYTES, MAX_LOG_CHUNK_BYTES } from "../../src/store/store-rules.js";
import type { Store } from "../../src/store/port.js";
import type { LogSink } from "./log-sink.js";

export interface StoreLogWriterOptions {
  store: Pick<Store, "appendLog">;
  jobId: string;
  /** The first chunk's seq: a job taken over goes on after the chunks already stored. */
  startSeq?: number;
  /** Bytes earlier attempts of the job stored: they count toward the cap. */
  startBytes?: number;
  /** Output past this many bytes is dropped after one notice line. Default 50 MB. */
  capBytes?: number;
  /** Longest time output waits before it is stored. Default 1000 ms. */
  flushIntervalMs?: number;
  /**
   * Most unsent output held while the store is slow; past it the oldest unsent output is
   * replaced by one line saying how much was dropped. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Tries per chunk before flush() gives up (the chunk is kept for the next flush). Default 5. */
  attempts?: number;
  retryBaseMs?: number;
  /** Where a failed append is reported; the writer never throws from write(). */
  onError?: (error: unknown) => void;
  /**
   * Asked before each append whether this writer still owns the job's log (its runner's
   * lease). False revokes the writer: unsent output is dropped and later writes ignored,
   * so a runner that lost its job never writes into the log of the runner that took it.
   */
  confirm?: () => Promise<boolean>;
}

/**
 * A LogSink that stores a job's output as numbered chunks (0, 1, 2, ...) of at most
 * MAX_LOG_CHUNK_BYTES, one append at a time, at least every `flushIntervalMs` while output
 * flows and completely on flush(). Memory stays bounded when the store lags.
 */
export class StoreLogWriter implements LogSink {
  private pending: string[] = [];
  /** Chunk ends asked for by cut(): after this many pending pieces, told the next seq. */
  private cuts: { at: number; told: (seq: number) => void }[] = [];
  private pendingBytes = 0;
  private inflight: { seq: number; data: string; at: number } | undefined;
  /** When the oldest pending output was written. */
  private pendingSince = 0;
  private nextSeq = 0;
  private acceptedBytes = 0;
  private dropped = 0;
  private capped = false;
  private revoked = false;
  private forced = false;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private lastError: unknown;
  private readonly cap: number;
  private readonly interval: number;
  private readonly maxBuffered: number;
  private readonly attempts: number;
  private readonly retryBaseMs: number;

  constructor(private readonly options: StoreLogWriterOptions) {
    this.nextSeq = options.startSeq ?? 0;
    this.cap = options.capBytes ?? DEFAULT_LOG_CAP_BYTES;
    this.acceptedBytes = Math.min(options.startBytes ?? 0, this.cap);
    // An earlier attempt reached the cap and wrote its notice: nothing more is stored.
    this.capped = this.acceptedBytes >= this.cap;
    this.interval = options.flushIntervalMs ?? 1000;
    this.maxBuffered = Math.max(options.maxBufferedBytes ?? 8 * 1024 * 1024, MAX_LOG_CHUNK_BYTES);
    this.attempts = options.attempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 200;
  }

  /** Bytes of output accepted (before the cap), earlier attempts' included. */
  get bytesAccepted(): number {
    return this.acceptedBytes;
  }

  /** Bytes dropped by the cap or because the store could not keep up. */
  get bytesDropped(): number {
    return this.dropped;
  }

  /** Bytes held in memory, waiting for the store. */
  get bytesBuffered(): number {
    return this.pendingBytes + (this.inflight ? Buffer.byteLength(this.inflight.data) : 0);
  }

  /** How many chunks have been stored. */
  get chunksStored(): number {
    return this.inflight ? this.inflight.seq : this.nextSeq;
  }

  write(text: string): void {
    if (text.length === 0 || this.revoked) return;
    if (this.capped) {
      this.dropped += Buffer.byteLength(text, "utf8");
      return;
    }
    let accepted = text;
    const bytes = Buffer.byteLength(text, "utf8");
    if (this.acceptedBytes + bytes > this.cap) {
      const [head, tail] = cutUtf8(text, this.cap - this.acceptedBytes);
      this.dropped += Buffer.byteLength(tail, "utf8");
      accepted = `${head}${head.endsWith("\n") || head === "" ? "" : "\n"}==> log truncated at ${formatSize(this.cap)}; the job goes on\n`;
      this.capped = true;
    }
    this.acceptedBytes += Math.min(bytes, this.cap);
    if (this.pendingBytes === 0) this.pendingSince = Date.now();
    this.pending.push(accepted);
    this.pendingBytes += Buffer.byteLength(accepted, "utf8");
    if (this.pendingBytes > this.maxBuffered) this.coalesce();
    if (this.pendingBytes >= MAX_LOG_CHUNK_BYTES) void this.kick();
    else this.arm();
  }

  /**
   * Ends the current chunk here: what is written next starts a new chunk. Resolves with
   * that chunk's seq once it is known (when the output before the cut is taken for a chunk),
   * so a section of the log can be named by its chunks.
   */
  cut(): Promise<number> {
    if (this.pending.length === 0 || this.revoked) return Promise.resolve(this.nextFreeSeq());
    return new Promise((told) => {
      this.cuts.push({ at: this.pending.length, told });
      this.arm();
    });
  }

  private nextFreeSeq(): number {
    return this.inflight ? this.inflight.seq + 1 : this.nextSeq;
  }

  /** Stores everything written so far; rejects with InfrastructureError if the store fails. */
  async flush(): Promise<void> {
    for (let round = 0; ; round++) {
      this.forced = true;
      this.lastError = undefined;
      await (this.draining ?? this.kick());
      if (this.pendingBytes === 0 && !this.inflight) return;
      if (this.lastError && round >= 1) throw this.lastError;
    }
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.forced = true;
      void this.kick();
    }, this.interval);
    this.timer.unref();
  }

  private kick(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** One append at a time, in seq order; never throws (the error is kept for flush). */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (!this.inflight) {
          const ready =
            this.pendingBytes >= MAX_LOG_CHUNK_BYTES || (this.forced && this.pendingBytes > 0);
          if (!ready) break;
          const at = this.pendingSince;
          this.inflight = { seq: this.nextSeq, data: this.takeChunk(), at };
          // What is left was written later than `at`, at the latest now.
          if (this.pendingBytes > 0) this.pendingSince = Date.now();
        }
        if (this.options.confirm && !(await this.options.confirm())) {
          this.revoke();
          break;
        }
        await this.append(this.inflight);
        this.nextSeq = this.inflight.seq + 1;
        this.inflight = undefined;
      }
      if (this.pendingBytes === 0) this.forced = false;
      else this.arm();
    } catch (error) {
      this.lastError = error;
      this.options.onError?.(error);
      this.arm();
    }
  }

  private revoke(): void {
    this.revoked = true;
    for (const cut of this.cuts.splice(0)) cut.told(this.nextFreeSeq());
    this.pending = [];
    this.pendingBytes = 0;
    this.inflight = undefined;
    this.forced = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True once `confirm` said another runner owns the log. */
  get isRevoked(): boolean {
    return this.revoked;
  }

  private async append(chunk: { seq: number; data: string; at: number }): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.store.appendLog({
          jobId: this.options.jobId,
          seq: chunk.seq,
          data: chunk.data,
          at: chunk.at,
        });
        return;
      } catch (error) {
        if (attempt >= this.attempts) {
          throw new InfrastructureError(
            `could not store log chunk ${chunk.seq} of job ${this.options.jobId} after ${attempt} tries: ${(error as Error).message}`,
            { cause: error },
          );
        }
        await sleep(this.retryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  private takeChunk(): string {
    const parts: string[] = [];
    let room = MAX_LOG_CHUNK_BYTES;
    let taken = 0;
    const limit = this.cuts[0]?.at ?? Infinity;
    while (this.pending.length > 0 && room > 0 && taken < limit) {
      const next = this.pending[0]!;
      const bytes = Buffer.byteLength(next, "utf8");
      if (bytes <= room) {
        parts.push(next);
        this.pending.shift();
        taken += 1;
        this.pendingBytes -= bytes;
        room -= bytes;
        continue;
      }
      const [head, tail] = cutUtf8(next, room);
      if (head === "") break;
      parts.push(head);
      this.pending[0] = tail;
      const used = Buffer.byteLength(head, "utf8");
      this.pendingBytes -= used;
      room -= used;
    }
    for (const cut of this.cuts) cut.at -= taken;
    // The output before a cut is in this chunk (or earlier ones): the next starts after it.
    while (this.cuts[0] && this.cuts[0].at <= 0) this.cuts.shift()!.told(this.nextSeq + 1);
    return parts.join("");
  }

  /** Drops the oldest unsent output, leaving a line that says how much went. */
  private coalesce(): void {
    let cut = 0;
    const target = this.maxBuffered / 2;
    while (this.pending.length > 1 && this.pendingBytes > target) {
      const bytes = Buffer.byteLength(this.pending.shift()!, "utf8");
      for (const c of this.cuts) c.at -= 1;
      this.pendingBytes -= bytes;
      cut += bytes;
    }
    if (cut === 0) return;
    this.dropped += cut;
    const note = `\n==> ${formatSize(cut)} of output dropped here: the log store could not keep up\n`;
    this.pending.unshift(note);
    // A cut in the dropped output falls after the note that stands for it.
    for (const c of this.cuts) c.at = Math.max(c.at, 0) + 1;
    this.pendingBytes += Buffer.byteLength(note, "utf8");
  }
}

/**
 * Splits `text` so the head is at most `maxBytes` of UTF-8 and ends on a character
 * boundary; the tail is the rest.
 */
function cutUtf8(text: string, maxBytes: number): [head: string, tail: string] {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return [text, ""];
  const bytes = Buffer.from(text, "utf8");
  let end = Math.max(0, maxBytes);
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return [bytes.subarray(0, end).toString("utf8"), bytes.subarray(end).toString("utf8")];
}

/** `50 MB` for whole mebibytes, else `12 KB` or `300 bytes`: for messages to users. */
function formatSize(bytes: number): string {
  const mb = 1024 * 1024;
  if (bytes >= mb && bytes % mb === 0) return `${bytes / mb} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
