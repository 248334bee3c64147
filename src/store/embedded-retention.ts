import { setTimeout as sleep } from "node:timers/promises";
import type { SqliteDatabase } from "./open-database.js";
import {
  BATCH_ROWS,
  expiryCutoff,
  pauseAfterBatch,
  takeBuildsWithinBudget,
} from "./retention-rules.js";

// The embedded store's retention sweep: deletes what expired (rules in retention-rules.ts)
// from kozmic.db in small transactions, pausing between them. SQLite reuses the freed pages
// before it grows the file, so the file levels off at about one retention period of data.

export interface RetentionOptions {
  /** Sweep on a timer (default); false: only when `sweep` is called. */
  automatic?: boolean;
  /** Between the end of one sweep and the start of the next. Default 60 s. */
  intervalMs?: number;
  /** Before the first sweep after opening. Default 10 s. */
  firstSweepMs?: number;
  /** Rows per delete transaction. Default BATCH_ROWS. */
  batchRows?: number;
  log?: (line: string) => void;
}

export interface SweepReport {
  deliveries: number;
  logChunks: number;
  builds: number;
  jobs: number;
  /** Delete transactions. */
  batches: number;
  /**
   * The longest any of them held the write lock (waiting for it not counted): how long
   * another writer may have had to wait for the sweep.
   */
  longestBatchMs: number;
}

export interface Retention {
  /** One sweep now (after any sweep under way), whichever process swept last. */
  sweep(nowMs?: number): Promise<SweepReport>;
  /** No sweep starts after this; one under way stops after its current batch. */
  stop(): void;
}

/** A job that has not ended (isFinal's opposite), in SQL over the jobs table as `j`. */
const LIVE = "json_extract(j.data, '$.status') NOT IN ('completed', 'errored')";

/** Starts sweeping `db` every `intervalMs` on an unref'd timer; `stop` before closing it. */
export function startRetention(db: SqliteDatabase, options: RetentionOptions = {}): Retention {
  const intervalMs = options.intervalMs ?? 60_000;
  const batchRows = options.batchRows ?? BATCH_ROWS;
  const log = options.log ?? ((line: string) => console.error(line));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();

  const deleteExpiredLog = (table: string) =>
    db.prepare(
      `DELETE FROM ${table} WHERE rowid IN
       (SELECT c.rowid FROM ${table} c WHERE c.expires_at <= ?
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job_id AND ${LIVE})
        ORDER BY c.expires_at LIMIT ?)`,
    );
  const q = {
    claim: db.prepare(
      `INSERT INTO store_retention (id, swept_at) VALUES (1, @now)
       ON CONFLICT (id) DO UPDATE SET swept_at = @now WHERE swept_at <= @now - @gap OR swept_at > @now`,
    ),
    deliveries: db.prepare(
      `DELETE FROM deliveries WHERE rowid IN
       (SELECT rowid FROM deliveries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
    ),
    chunks: deleteExpiredLog("log_chunks"),
    // A job's sections go with its chunks.
    sections: deleteExpiredLog("log_sections"),
    builds: db.prepare(
      `SELECT b.id, (SELECT count(*) FROM jobs j WHERE j.build_id = b.id) AS jobs FROM builds b
       WHERE b.expires_at IS NOT NULL AND b.expires_at <= ?
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.build_id = b.id AND ${LIVE})
       ORDER BY b.expires_at LIMIT ?`,
    ),
    latestOf: db.prepare(
      "DELETE FROM latest WHERE job_id IN (SELECT id FROM jobs WHERE build_id = ?)",
    ),
    jobsOf: db.prepare("DELETE FROM jobs WHERE build_id = ?"),
    build: db.prepare("DELETE FROM builds WHERE id = ?"),
  };

  /**
   * Runs `work` in one BEGIN IMMEDIATE transaction; how long it held the write lock, the
   * wait for the lock (another process writing) not counted.
   */
  const locked = <T>(work: () => T): { result: T; heldMs: number } => {
    db.exec("BEGIN IMMEDIATE");
    const start = performance.now();
    try {
      const result = work();
      db.exec("COMMIT");
      return { result, heldMs: performance.now() - start };
    } finally {
      if (db.inTransaction) db.exec("ROLLBACK");
    }
  };

  /**
   * Runs `batch` in a transaction of its own until it says there is no more, pausing after
   * each as long as it held the lock.
   */
  const inBatches = async (report: SweepReport, batch: () => boolean): Promise<void> => {
    while (!stopped) {
      const { result: more, heldMs } = locked(batch);
      report.batches += 1;
      report.longestBatchMs = Math.max(report.longestBatchMs, heldMs);
      if (!more) break;
      await sleep(pauseAfterBatch(heldMs));
    }
  };

  /** Expired builds within the row budget, with their jobs and latest rows. */
  const deleteBuilds = (cutoffS: number) => {
    const candidates = q.builds.all(cutoffS, batchRows) as { id: string; jobs: number }[];
    let jobs = 0;
    const ids = takeBuildsWithinBudget(candidates, batchRows);
    for (const id of ids) {
      q.latestOf.run(id);
      jobs += q.jobsOf.run(id).changes;
      q.build.run(id);
    }
    const more = ids.length < candidates.length || candidates.length === batchRows;
    return { builds: ids.length, jobs, more };
  };

  const sweepOnce = async (nowMs: number): Promise<SweepReport> => {
    const cutoffS = expiryCutoff(nowMs);
    const report: SweepReport = {
      deliveries: 0,
      logChunks: 0,
      builds: 0,
      jobs: 0,
      batches: 0,
      longestBatchMs: 0,
    };
    await inBatches(report, () => {
      const n = q.deliveries.run(cutoffS, batchRows).changes;
      report.deliveries += n;
      return n === batchRows;
    });
    await inBatches(report, () => {
      const n = q.chunks.run(cutoffS, batchRows).changes;
      report.logChunks += n;
      const sections = q.sections.run(cutoffS, batchRows).changes;
      return n === batchRows || sections === batchRows;
    });
    await inBatches(report, () => {
      const r = deleteBuilds(cutoffS);
      report.builds += r.builds;
      report.jobs += r.jobs;
      return r.more;
    });
    return report;
  };

  const sweep = (nowMs = Date.now()): Promise<SweepReport> => {
    const next = current.then(() => sweepOnce(nowMs));
    current = next.catch(() => undefined);
    return next;
  };

  const tick = async () => {
    const now = Date.now();
    try {
      // Processes sharing the file take turns: one sweep per interval among them.
      if (q.claim.run({ now, gap: Math.floor(intervalMs * 0.9) }).changes === 1) await sweep(now);
    } catch (error) {
      log(
        `store retention: sweep failed, next in ${intervalMs / 1000} s: ${(error as Error).message}`,
      );
    }
    schedule(intervalMs);
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), ms);
    timer.unref();
  };
  if (options.automatic !== false) schedule(options.firstSweepMs ?? 10_000);

  return {
    sweep,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
