import type { LogSectionRecord, Store } from "../../src/store/port.js";

export type SectionName = LogSectionRecord["name"];
export type SectionConclusion = NonNullable<LogSectionRecord["conclusion"]>;

/**
 * Where the runner says which part of a job's log is which: the sections are data kept
 * beside the log, never lines in it, so nothing a job prints can start or end one.
 * Starting a section ends the one before it (successfully: the job went on).
 */
export interface SectionRecorder {
  start(name: SectionName, title: string): void;
  /** Ends the open section, if any. */
  end(conclusion: SectionConclusion): void;
  /** Resolves once every section so far is recorded (call after the log's last flush). */
  flush(): Promise<void>;
}

/** For `kozmic run`, whose terminal has no sections. */
export const noSections: SectionRecorder = {
  start() {},
  end() {},
  flush: () => Promise.resolve(),
};

/** Records sections in the store, each bounded by the log chunks its output went to. */
export function storeSections(options: {
  store: Pick<Store, "putLogSection">;
  jobId: string;
  /** Ends the log's current chunk; resolves with the seq the next output goes to. */
  cut: () => Promise<number>;
  onError?: (error: unknown) => void;
}): SectionRecorder {
  let chain = Promise.resolve();
  let open: Promise<LogSectionRecord> | undefined;
  const put = (record: Promise<LogSectionRecord>) => {
    chain = chain
      .then(async () => options.store.putLogSection(await record))
      .catch((error: unknown) => options.onError?.(error));
  };
  const recorder: SectionRecorder = {
    start(name, title) {
      recorder.end("success");
      const startedAt = Date.now();
      const seq = options.cut();
      open = seq.then((startSeq) => ({
        jobId: options.jobId,
        name,
        title: title.replace(/[\r\n]+/g, " ").slice(0, 200),
        startSeq,
        startedAt,
      }));
      put(open);
    },
    end(conclusion) {
      if (!open) return;
      const endedAt = Date.now();
      const started = open;
      open = undefined;
      const seq = options.cut();
      put(
        Promise.all([started, seq]).then(([record, endSeq]) => ({
          ...record,
          endSeq,
          endedAt,
          conclusion,
        })),
      );
    },
    async flush() {
      await chain;
    },
  };
  return recorder;
}
