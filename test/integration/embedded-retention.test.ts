import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/store/embedded-store.js";
import type { BuildRecord, JobRecord } from "../../src/store/port.js";
import * as z from "zod";
import { aBuild, aJob } from "../support/job-fixtures.js";

/** The queue in the same file; what its messages say does not matter here. */
const openQueue = (dataDir: string) =>
  openEmbeddedQueue({
    dataDir,
    name: "jobs",
    kind: { name: "test message", version: 1, schema: z.strictObject({ jobId: z.string() }) },
  });

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function aDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-retention-"));
  dirs.push(dir);
  return dir;
}

const CHUNK = "x".repeat(64 * 1024);

/** A build of `hooks` jobs, each claimed, logging `chunks` chunks and ended, as a runner does. */
async function runBuild(
  store: EmbeddedStore,
  options: { hooks?: number; chunks?: number; end?: boolean } = {},
): Promise<{ build: BuildRecord; jobs: JobRecord[] }> {
  const build = aBuild();
  const jobs = Array.from({ length: options.hooks ?? 1 }, (_, i) =>
    aJob(build, { hook: `hook-${i}` }),
  );
  await store.createBuild(build, jobs);
  for (const job of jobs) {
    await store.claimJob(job.id, "runner-1", 60_000);
    for (let seq = 0; seq < (options.chunks ?? 2); seq++) {
      await store.appendLog({ jobId: job.id, seq, data: CHUNK });
    }
    await store.putLogSection({
      jobId: job.id,
      name: "build",
      title: "Build",
      startSeq: 0,
      startedAt: 1,
    });
    if (options.end !== false) {
      await store.transitionJob(job.id, ["running"], {
        status: "completed",
        conclusion: "success",
        finishedAt: Date.now(),
      });
    }
  }
  return { build, jobs };
}

function countRows(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, "kozmic.db"), { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    const count = (table: string) =>
      tables.includes(table)
        ? (db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number)
        : 0;
    return Object.fromEntries(
      ["builds", "jobs", "log_chunks", "deliveries", "latest", "queue_messages"].map((t) => [
        t,
        count(t),
      ]),
    );
  } finally {
    db.close();
  }
}

function fileBytes(dataDir: string): number {
  const path = join(dataDir, "kozmic.db");
  const wal = (() => {
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0;
    }
  })();
  return statSync(path).size + wal;
}

describe("embedded store retention", () => {
  it("deletes expired builds, jobs, logs and deliveries, and keeps queued and running jobs", async () => {
    const dataDir = aDataDir();
    const store = openEmbeddedStore({
      dataDir,
      logRetentionSeconds: 2,
      deliveryRetentionSeconds: 2,
      retention: false,
    });
    const queue = openQueue(dataDir);
    try {
      const ended = await runBuild(store, { hooks: 3 });
      const line = { repoId: 7, line: "branch:main", hook: "hook-0" };
      const endedAt = ended.build.createdAt;
      await store.recordLatest(line, ended.build.sha, ended.jobs[0]!.id, endedAt);
      const running = await runBuild(store, { hooks: 1, end: false });
      const queuedBuild = aBuild();
      const queuedJob = aJob(queuedBuild);
      await store.createBuild(queuedBuild, [queuedJob]);
      // A build with an ended job (long ago) beside a running one.
      const half = aBuild();
      const halfJobs = [aJob(half, { status: "completed", updatedAt: 1 }), aJob(half)];
      await store.createBuild(half, halfJobs);
      await store.claimJob(halfJobs[1]!.id, "runner-1", 60_000);
      await store.appendLog({ jobId: halfJobs[1]!.id, seq: 0, data: "still going" });
      assert.equal(await store.recordDelivery("delivery-1"), true);
      await queue.send({ jobId: queuedJob.id });

      const now = Date.now();
      const early = await store.sweepExpired(now);
      assert.deepEqual([early.builds, early.logChunks, early.deliveries], [0, 0, 0], "not yet");

      const report = await store.sweepExpired(now + 5_000);
      assert.equal(report.builds, 1);
      assert.equal(report.jobs, 3);
      assert.equal(report.deliveries, 1);
      assert.equal(report.logChunks, 3 * 2, "the ended jobs' chunks only");

      assert.equal(await store.getBuild(ended.build.id), undefined);
      assert.deepEqual(await store.listJobs(ended.build.id), []);
      for (const job of ended.jobs) {
        assert.equal(await store.getJob(job.id), undefined);
        assert.deepEqual(await store.readLog(job.id), []);
        assert.deepEqual(await store.readLogSections(job.id), [], "sections go with the log");
      }

      // What is live stays, logs of a running job included, however old.
      assert.equal((await store.getJob(running.jobs[0]!.id))?.status, "running");
      assert.equal((await store.readLog(running.jobs[0]!.id)).length, 2);
      assert.equal((await store.readLogSections(running.jobs[0]!.id)).length, 1);
      assert.equal((await store.getJob(queuedJob.id))?.status, "queued");
      assert.ok(await store.getBuild(queuedBuild.id));
      assert.ok(await store.getBuild(half.id), "a build with a running job stays whole");
      assert.equal((await store.listJobs(half.id)).length, 2);
      assert.equal((await store.readLog(halfJobs[1]!.id)).length, 1);

      const rows = countRows(dataDir);
      assert.equal(rows.deliveries, 0);
      assert.equal(rows.latest, 0, "the line's newest job is gone, and so is its row");
      assert.equal(rows.queue_messages, 1, "the queue in the same file is left alone");
      const [message] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30 });
      assert.equal(message?.body.jobId, queuedJob.id);

      // Once the running job ends, its build expires retention later, not before.
      await store.transitionJob(running.jobs[0]!.id, ["running"], {
        status: "completed",
        conclusion: "failure",
      });
      const endedNow = Date.now();
      assert.equal((await store.sweepExpired(endedNow)).builds, 0);
      assert.ok(await store.getJob(running.jobs[0]!.id));
      const later = await store.sweepExpired(endedNow + 3_000);
      assert.equal(later.builds, 1);
      assert.equal(later.logChunks, 2);
      assert.equal(await store.getJob(running.jobs[0]!.id), undefined);
    } finally {
      await queue.close();
      await store.close();
    }
  });

  it("sweeps on its own timer, in batches, while the store is open, and stops on close", async () => {
    const dataDir = aDataDir();
    const lines: string[] = [];
    const store = openEmbeddedStore({
      dataDir,
      logRetentionSeconds: 1,
      deliveryRetentionSeconds: 1,
      retention: { intervalMs: 100, firstSweepMs: 0, batchRows: 8, log: (l) => lines.push(l) },
    });
    try {
      const builds = [];
      for (let i = 0; i < 12; i++) builds.push(await runBuild(store, { hooks: 2, chunks: 3 }));
      for (let i = 0; i < 20; i++) await store.recordDelivery(`delivery-${i}`);
      const live = await runBuild(store, { end: false });
      // Real time: retention is 1 s, the expiry second must pass, sweeps come every 100 ms.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const rows = countRows(dataDir);
        if (rows.builds === 1 && rows.deliveries === 0 && rows.log_chunks === 2) break;
        await sleep(100);
      }
      assert.deepEqual(countRows(dataDir), {
        builds: 1,
        jobs: 1,
        log_chunks: 2,
        deliveries: 0,
        latest: 0,
        queue_messages: countRows(dataDir).queue_messages,
      });
      assert.ok(await store.getJob(live.jobs[0]!.id));
      assert.deepEqual(lines, [], "nothing to say about a routine sweep");
    } finally {
      await store.close();
    }
    await sleep(300); // a timer firing after close would throw on the closed database
  });

  it("processes sharing the file take turns: one timed sweep per interval among them", async (t) => {
    const dataDir = aDataDir();
    const timed = { intervalMs: 60_000, firstSweepMs: 0 };
    const first = openEmbeddedStore({ dataDir, retention: timed });
    let second: EmbeddedStore | undefined;
    try {
      const deadline = Date.now() + 5_000;
      const swept = () => {
        const db = new Database(join(dataDir, "kozmic.db"), { readonly: true });
        try {
          return db.prepare("SELECT count(*) FROM store_retention").pluck().get() === 1;
        } finally {
          db.close();
        }
      };
      while (!swept() && Date.now() < deadline) await sleep(20);
      assert.ok(swept(), "the first store swept on its timer");
      // Expired at once, for a second store whose timer fires while the first one's turn lasts:
      // its timer driven by hand, so the check below follows the timer's firing, not a pause.
      t.mock.timers.enable({ apis: ["setTimeout"] });
      second = openEmbeddedStore({ dataDir, logRetentionSeconds: 0, retention: timed });
      await second.appendLog({ jobId: "orphan", seq: 0, data: "old" });
      t.mock.timers.tick(1);
      assert.equal((await second.readLog("orphan")).length, 1, "not its turn: no sweep");
      t.mock.timers.reset();
      assert.equal((await second.sweepExpired()).logChunks, 1, "a sweep on request runs anyway");
    } finally {
      await second?.close();
      await first.close();
    }
  });

  it("the file stops growing when the same amount is written and expired again and again", async () => {
    const dataDir = aDataDir();
    const store = openEmbeddedStore({ dataDir, logRetentionSeconds: 60, retention: false });
    const peaks: number[] = [];
    try {
      let clock = Date.now();
      for (let round = 0; round < 12; round++) {
        // 8 jobs x 16 chunks of 64 KiB: 8 MiB of log per round.
        for (let i = 0; i < 8; i++) await runBuild(store, { chunks: 16 });
        peaks.push(fileBytes(dataDir));
        clock = Math.max(clock, Date.now()) + 61_000;
        const report = await store.sweepExpired(clock);
        assert.equal(report.builds, 8);
        assert.equal(report.logChunks, 8 * 16);
      }
    } finally {
      await store.close();
    }
    const written = 12 * 8 * 2 ** 20;
    const firstRounds = Math.max(...peaks.slice(0, 4));
    const lastRounds = Math.max(...peaks.slice(4));
    assert.ok(
      lastRounds <= firstRounds * 1.05,
      `file after rounds 5-12 (${peaks.slice(4).join(", ")}) not above its size after rounds 1-4 (${firstRounds})`,
    );
    assert.ok(lastRounds < written / 3, `file ${lastRounds} bytes for ${written} written`);
  });

  it("brings a file made before retention up to date: build expiry from its jobs", async () => {
    const dataDir = aDataDir();
    const nowS = Math.floor(Date.now() / 1000);
    const oldBuild = aBuild({ createdAt: Date.now() - 40 * 86_400_000 });
    const oldJob = aJob(oldBuild, {
      status: "completed",
      updatedAt: oldBuild.createdAt + 60_000,
    });
    const liveBuild = aBuild({ createdAt: oldBuild.createdAt });
    const liveJob = aJob(liveBuild);
    const legacy = new Database(join(dataDir, "kozmic.db"));
    legacy.pragma("journal_mode = WAL");
    legacy.exec(`
      CREATE TABLE builds (id TEXT PRIMARY KEY, repo_id INTEGER NOT NULL, sha TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL);
      CREATE TABLE jobs (id TEXT PRIMARY KEY, build_id TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE log_chunks (job_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (job_id, seq));
      CREATE TABLE deliveries (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE TABLE latest (key TEXT PRIMARY KEY, sha TEXT NOT NULL, job_id TEXT NOT NULL, created_at INTEGER NOT NULL);
    `);
    for (const build of [oldBuild, liveBuild]) {
      legacy
        .prepare("INSERT INTO builds VALUES (?, ?, ?, ?, ?)")
        .run(build.id, build.repoId, build.sha, build.createdAt, JSON.stringify(build));
    }
    for (const job of [oldJob, liveJob]) {
      legacy
        .prepare("INSERT INTO jobs VALUES (?, ?, ?)")
        .run(job.id, job.buildId, JSON.stringify(job));
    }
    const insertChunk = legacy.prepare("INSERT INTO log_chunks VALUES (?, ?, ?, ?)");
    for (let seq = 0; seq < 64; seq++) insertChunk.run(oldJob.id, seq, CHUNK, nowS - 10 * 86_400);
    insertChunk.run(liveJob.id, 0, "kept", nowS + 86_400);
    legacy.prepare("INSERT INTO deliveries VALUES (?, ?)").run("old-delivery", nowS - 1);
    legacy.close();

    const lines: string[] = [];
    const queue = openQueue(dataDir);
    await queue.send({ jobId: liveJob.id });
    const store = openEmbeddedStore({
      dataDir,
      retention: { automatic: false, log: (l) => lines.push(l) },
    });
    try {
      const report = await store.sweepExpired();
      assert.equal(report.builds, 1, "30 days after its job ended");
      assert.equal(report.logChunks, 64);
      assert.equal(report.deliveries, 1);
      assert.deepEqual(lines, []);
      assert.equal(await store.getBuild(oldBuild.id), undefined);
      assert.deepEqual(
        (await store.readLog(liveJob.id)).map((c) => c.data),
        ["kept"],
      );
      // Chunks gained the time their output was written: none for the old, kept for new ones.
      await store.appendLog({ jobId: liveJob.id, seq: 1, data: "timed", at: 1_764_500_000_000 });
      assert.deepEqual(
        (await store.readLog(liveJob.id)).map((c) => c.at),
        [undefined, 1_764_500_000_000],
      );
      assert.ok(await store.getJob(liveJob.id));
      const [message] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30 });
      assert.equal(message?.body.jobId, liveJob.id, "the queue is left alone");
    } finally {
      await queue.close();
      await store.close();
    }
  });
});
