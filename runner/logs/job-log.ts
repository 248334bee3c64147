import type { Store } from "../../src/store/port.js";
import { LogTail, teeLogSink } from "./log-tail.js";
import { maskingSink, SecretMasker, type MaskingSink } from "./secret-masker.js";
import { storeSections, type SectionRecorder } from "./section-recorder.js";
import { StoreLogWriter } from "./store-log-writer.js";
import { WorkflowCommands } from "./workflow-commands.js";

/** A job's log as its runner writes it: masked, stored in chunks, with its sections and end. */
export interface JobLog {
  writer: StoreLogWriter;
  /** The log's end, for the check run. */
  tail: LogTail;
  /** The annotations the output asks for (`::error file=…::…`), after masking. */
  commands: WorkflowCommands;
  /** Every line of the job's log passes here: secret values never reach the store or the tail. */
  sink: MaskingSink;
  masker: SecretMasker;
  /** The log's sections, recorded beside it. */
  sections: SectionRecorder;
  /** A line of the runner's own. */
  say: (line: string) => void;
}

/** Opens the job's log where its earlier attempts left it (one cap for all attempts). */
export async function openJobLog(options: {
  store: Store;
  jobId: string;
  capBytes: number;
  /** Asked before each append: a chunk is appended only while the lease is surely ours. */
  confirm: () => Promise<boolean>;
  warn: (line: string) => void;
}): Promise<JobLog> {
  const { store, jobId, warn } = options;
  const stored = await readStoredLog(store, jobId);
  const writer = new StoreLogWriter({
    store,
    jobId,
    startSeq: stored.nextSeq,
    startBytes: stored.bytes,
    capBytes: options.capBytes,
    onError: (error) => warn(`log store: ${(error as Error).message}`),
    confirm: options.confirm,
  });
  const tail = new LogTail();
  const commands = new WorkflowCommands();
  const masker = new SecretMasker();
  const sink = maskingSink(teeLogSink(writer, tail, commands), masker);
  const sections = storeSections({
    store,
    jobId,
    // A section starts between two scripts' output: what the masker held is decided.
    cut: () => {
      sink.end();
      return writer.cut();
    },
    onError: (error) => warn(`log sections: ${(error as Error).message}`),
  });
  const say = (line: string) => sink.write(`==> ${line}\n`);
  return { writer, tail, commands, sink, masker, sections, say };
}

/** What a job's earlier attempts stored: where its log goes on, and how much counts toward the cap. */
interface StoredLog {
  /** The seq after the job's last stored chunk. */
  nextSeq: number;
  /** Bytes already stored. */
  bytes: number;
}

/** A job taken over or retried goes on after its log so far, within one cap for all attempts. */
export async function readStoredLog(
  store: Pick<Store, "readLog">,
  jobId: string,
): Promise<StoredLog> {
  let nextSeq = 0;
  let bytes = 0;
  for (;;) {
    const page = await store.readLog(jobId, nextSeq, 1000);
    if (page.length === 0) return { nextSeq, bytes };
    for (const chunk of page) bytes += Buffer.byteLength(chunk.data, "utf8");
    nextSeq = page[page.length - 1]!.seq + 1;
  }
}
