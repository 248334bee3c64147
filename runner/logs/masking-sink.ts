import type { LogSink } from "./log-sink.js";
import type { SecretMasker } from "./secret-masker.js";

/**
 * A LogSink that masks secrets before `inner` sees anything: the stored log, the live page,
 * the raw log and the check run's tail all read what passed here. `flush` releases what the
 * masker held back, so call it only where the output has ended.
 */
export function maskingSink(inner: LogSink, masker: SecretMasker): LogSink {
  return {
    write(text) {
      const decided = masker.write(text);
      if (decided) inner.write(decided);
    },
    async flush() {
      const rest = masker.end();
      if (rest) inner.write(rest);
      await inner.flush();
    },
  };
}
