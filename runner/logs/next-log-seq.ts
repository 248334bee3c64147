import type { Store } from "../../src/store/port.js";

/** What a job's earlier attempts stored: where its log goes on, and how much counts toward the cap. */
export interface StoredLog {
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
