import type { LogSink } from "./log-sink.js";
import type { SecretMasker } from "./secret-masker.js";

export interface MaskingSink extends LogSink {
  /** Passes on what the masker held back: the output has ended. */
  end(): void;
}

/**
 * A LogSink that masks secrets before `inner` sees anything: the stored log, the live page,
 * the raw log and the check run's tail all read what passed here. `flush` releases what the
 * masker held back, so call it only where the output has ended.
 */
export function maskingSink(inner: LogSink, masker: SecretMasker): MaskingSink {
  const end = () => {
    const rest = masker.end();
    if (rest) inner.write(rest);
  };
  return {
    write(text) {
      const decided = masker.write(text);
      if (decided) inner.write(decided);
    },
    end,
    async flush() {
      end();
      await inner.flush();
    },
  };
}
