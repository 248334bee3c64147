import type { ReceivedJob } from "../../src/queue/port.js";
import { processMessage } from "./process-message.js";
import { stopJob, type JobControl, type WorkerContext } from "./worker-context.js";

interface RunningJob {
  control: JobControl;
  done: Promise<void>;
  received: ReceivedJob;
  redelivered: boolean;
}

/**
 * The jobs one runner is running, one per job id: each received message runs through
 * processMessage, a redelivery of a running job joins it, and a freed slot wakes the
 * receive loop.
 */
export class JobSlots {
  private readonly running = new Map<string, RunningJob>();
  private slotFreed: (() => void) | undefined;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly isStopping: () => boolean,
  ) {}

  get size(): number {
    return this.running.size;
  }

  /** Resolves when a job ends (or at once when `wake` is called). */
  whenOneEnds(): Promise<void> {
    return new Promise<void>((resolve) => (this.slotFreed = resolve)).finally(
      () => (this.slotFreed = undefined),
    );
  }

  wake(): void {
    this.slotFreed?.();
  }

  launch(received: ReceivedJob): void {
    const key = received.body.jobId;
    const current = this.running.get(key);
    if (current) {
      // A redelivery of a job running here (at-least-once delivery): keep running it, with
      // the newest receipt, which is the one the queue honours for visibility and delete.
      current.received.receipt = received.receipt;
      current.received.receiveCount = received.receiveCount;
      current.redelivered = true;
      return;
    }
    const control: JobControl = new AbortController();
    const entry: RunningJob = { control, done: Promise.resolve(), received, redelivered: false };
    entry.done = processMessage(received, this.ctx, control)
      .catch((error: unknown) => {
        // Claim or store trouble before the job started: the message comes back by itself.
        this.ctx.log(`job ${key}: not started: ${(error as Error).message}`, "warn");
      })
      .then(() => (entry.redelivered ? this.resumeRedelivery(entry.received) : undefined))
      .finally(() => {
        if (this.running.get(key) === entry) this.running.delete(key);
        this.wake();
      });
    this.running.set(key, entry);
  }

  /**
   * Lets running jobs finish for `graceMs`, then stops the rest as a shutdown (they go back
   * to the queue), and waits for all of them.
   */
  async finishOrReturn(graceMs: number, onGraceOver: (count: number) => void): Promise<void> {
    const jobs = [...this.running.values()];
    if (jobs.length === 0) return;
    const all = () => Promise.all(jobs.map((job) => job.done));
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (expired) {
      onGraceOver(jobs.length);
      for (const job of jobs) stopJob(job.control, { kind: "shutdown" });
    }
    await all();
  }

  // A redelivery that arrived while this runner was giving the job back (an infrastructure
  // retry) belongs to the next attempt, not to the one that just ended: run it, or it would
  // be lost, and on the last allowed receive the job would never be reported.
  private async resumeRedelivery(received: ReceivedJob): Promise<void> {
    const job = await this.ctx.store.getJob(received.body.jobId).catch(() => undefined);
    if (job?.status !== "queued") return;
    if (this.isStopping()) {
      await this.ctx.queue.extendVisibility(received.receipt, 0).catch(() => {});
      return;
    }
    this.running.delete(received.body.jobId);
    this.launch(received);
  }
}
