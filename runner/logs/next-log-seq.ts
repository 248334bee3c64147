import type { Store } from "../../src/store/port.js";

/** The seq after the job's last stored chunk: a job taken over goes on after its log so far. */
export async function nextLogSeq(store: Pick<Store, "readLog">, jobId: string): Promise<number> {
  let next = 0;
  for (;;) {
    const page = await store.readLog(jobId, next, 1000);
    if (page.length === 0) return next;
    next = page[page.length - 1]!.seq + 1;
  }
}
