// Soak of the embedded store's retention: a runner process writes short jobs with a 1 MiB log
// each (createBuild, claimJob, 16 appendLog of 64 KiB, transitionJob, as a runner does) while
// this process, like `kozmic serve`, sweeps what expired. Reports kozmic.db's size (with its
// WAL) against jobs written, and the runner's append latency before anything expired
// (the baseline) and while sweeps delete.
//
// The file peaks near RETENTION_S × the write rate: about 8 GiB of the temporary directory
// at the default 60 s and the ~110 MiB/s a 2-core machine takes. Smaller, and each sweep shown:
//
//   npx tsx bench/retention.bench.ts
//   KOZMIC_BENCH_RETENTION_JOBS=2000 KOZMIC_BENCH_RETENTION_SECONDS=10 KOZMIC_BENCH_VERBOSE=1 \
//     npx tsx bench/retention.bench.ts
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import type { SweepReport } from "../src/store/embedded-retention.js";
import { aBuild, aJob } from "../test/support/job-fixtures.js";

const JOBS = Number(process.env.KOZMIC_BENCH_RETENTION_JOBS ?? 20_000);
const RETENTION_S = Number(process.env.KOZMIC_BENCH_RETENTION_SECONDS ?? 60);
const SWEEP_EVERY_MS = 5_000;
const CHUNKS_PER_JOB = 16;
const CHUNK = "x".repeat(64 * 1024);
const REPORT_EVERY = Math.max(1, Math.floor(JOBS / 40));
const MIB = 2 ** 20;

interface Progress {
  jobs: number;
  elapsedMs: number;
}
interface Latencies {
  /** Append latencies in ms before the first log could expire, and after. */
  before: number[];
  after: number[];
}

/** The runner: one job after another, as fast as the store takes them. */
async function writer(dataDir: string): Promise<void> {
  const store = openEmbeddedStore({
    dataDir,
    logRetentionSeconds: RETENTION_S,
    retention: false,
  });
  const latencies: Latencies = { before: [], after: [] };
  const start = performance.now();
  for (let n = 1; n <= JOBS; n++) {
    const build = aBuild();
    const job = aJob(build);
    await store.createBuild(build, [job]);
    await store.claimJob(job.id, "bench-runner", 60_000);
    for (let seq = 0; seq < CHUNKS_PER_JOB; seq++) {
      const t = performance.now();
      await store.appendLog({ jobId: job.id, seq, data: CHUNK });
      const ms = performance.now() - t;
      (t - start < RETENTION_S * 1000 ? latencies.before : latencies.after).push(ms);
    }
    await store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "success",
      finishedAt: Date.now(),
    });
    if (n % REPORT_EVERY === 0 || n === JOBS) {
      process.stdout.write(
        `${JSON.stringify({ jobs: n, elapsedMs: performance.now() - start } satisfies Progress)}\n`,
      );
      // A runner waits on Docker between jobs; here, the event loop gets one turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ latencies: summarize(latencies) })}\n`);
}

function summarize(l: Latencies) {
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return { n: xs.length, p50: at(0.5) ?? 0, p99: at(0.99) ?? 0, max: sorted.at(-1) ?? 0 };
  };
  return { before: stats(l.before), after: stats(l.after) };
}

function fileBytes(dataDir: string): { db: number; wal: number } {
  const size = (path: string) => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  const db = join(dataDir, "kozmic.db");
  return { db: size(db), wal: size(`${db}-wal`) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-bench-retention-"));
  // The server's store: it sweeps every SWEEP_EVERY_MS (the default is 60 s; a retention of
  // RETENTION_S calls for sweeps more often).
  const store = openEmbeddedStore({
    dataDir,
    logRetentionSeconds: RETENTION_S,
    retention: false,
  });
  const sweeps: (SweepReport & { ms: number })[] = [];
  // As the store's own timer does: the next sweep SWEEP_EVERY_MS after the last one ended.
  let sweeping: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const sweepLater = () => {
    timer = setTimeout(() => {
      sweeping = (async () => {
        const t = performance.now();
        sweeps.push({ ...(await store.sweepExpired()), ms: performance.now() - t });
        if (process.env.KOZMIC_BENCH_VERBOSE) console.log("sweep", JSON.stringify(sweeps.at(-1)));
        sweepLater();
      })();
    }, SWEEP_EVERY_MS);
  };
  sweepLater();

  const samples: Sample[] = [];
  let latencies: ReturnType<typeof summarize> | undefined;
  const start = performance.now();
  try {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "writer", dataDir],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    for await (const line of createInterface({ input: child.stdout })) {
      const message = JSON.parse(line) as Progress | { latencies: typeof latencies };
      if ("latencies" in message) {
        latencies = message.latencies;
        continue;
      }
      const s = message.elapsedMs / 1000;
      // What retention must keep: the log written in the last RETENTION_S seconds.
      const before = samples.filter((earlier) => earlier.s <= s - RETENTION_S).at(-1);
      const windowMiB = writtenMiB(message.jobs - (before?.jobs ?? 0));
      const sample = { jobs: message.jobs, s, windowMiB, ...fileBytes(dataDir) };
      samples.push(sample);
      if (samples.length === 1) console.log(HEADER);
      console.log(row(sample));
    }
    const code = await exited;
    if (code !== 0) throw new Error(`the writer exited with ${code}`);
    clearTimeout(timer);
    await sweeping;
    clearTimeout(timer);
    report(samples, sweeps, latencies, (performance.now() - start) / 1000);
  } finally {
    clearTimeout(timer);
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const HEADER =
  "  jobs   time s   written MiB   last 60 s MiB   kozmic.db MiB   WAL MiB   file/written   file/last 60 s".replaceAll(
    "60",
    String(RETENTION_S),
  );
const writtenMiB = (jobs: number) => (jobs * CHUNKS_PER_JOB * CHUNK.length) / MIB;

type Sample = { jobs: number; s: number; windowMiB: number; db: number; wal: number };

function row(s: Sample): string {
  const file = (s.db + s.wal) / MIB;
  return [
    String(s.jobs).padStart(6),
    s.s.toFixed(0).padStart(8),
    writtenMiB(s.jobs).toFixed(0).padStart(13),
    s.windowMiB.toFixed(0).padStart(15),
    (s.db / MIB).toFixed(0).padStart(15),
    (s.wal / MIB).toFixed(0).padStart(9),
    (file / writtenMiB(s.jobs)).toFixed(3).padStart(14),
    (file / s.windowMiB).toFixed(3).padStart(16),
  ].join(" ");
}

function report(
  samples: Sample[],
  sweeps: (SweepReport & { ms: number })[],
  latencies: ReturnType<typeof summarize> | undefined,
  totalS: number,
): void {
  const mib = (bytes: number) => (bytes / MIB).toFixed(0);
  const file = (s: Sample) => s.db + s.wal;
  const last = samples.at(-1)!;
  // Until RETENTION_S has passed nothing can expire: the file holds every byte written, as
  // it would without retention (the baseline). After that, sweeps delete what expired.
  const early = samples.filter((s) => s.s <= RETENTION_S);
  const late = samples.filter((s) => s.s > RETENTION_S + 2 * (SWEEP_EVERY_MS / 1000));
  const baseline = early.at(-1);
  const lateMax = late.length > 0 ? `${mib(Math.max(...late.map(file)))} MiB` : "(run too short)";
  const sum = (f: (s: SweepReport & { ms: number }) => number) =>
    sweeps.reduce((n, s) => n + f(s), 0);
  console.log(
    `${JOBS} jobs x ${(CHUNKS_PER_JOB * CHUNK.length) / MIB} MiB of log, retention ${RETENTION_S} s, a sweep every ${SWEEP_EVERY_MS / 1000} s: ${totalS.toFixed(0)} s`,
  );
  if (baseline) {
    console.log(
      `baseline (nothing expired yet, as without retention): ${mib(file(baseline))} MiB after ${mib(writtenMiB(baseline.jobs) * MIB)} MiB written, ratio ${(file(baseline) / (writtenMiB(baseline.jobs) * MIB)).toFixed(3)}`,
    );
  }
  console.log(
    `with retention: ${mib(file(last))} MiB after ${mib(writtenMiB(last.jobs) * MIB)} MiB written, ratio ${(file(last) / (writtenMiB(last.jobs) * MIB)).toFixed(3)}; largest once sweeps ran ${lateMax}`,
  );
  console.log(
    `sweeps: ${sweeps.length}, ${sum((s) => s.logChunks)} log chunks and ${sum((s) => s.jobs)} jobs deleted in ${sum((s) => s.batches)} batches; longest batch ${Math.max(...sweeps.map((s) => s.longestBatchMs)).toFixed(0)} ms, longest sweep ${(Math.max(...sweeps.map((s) => s.ms)) / 1000).toFixed(1)} s`,
  );
  if (latencies) {
    const line = (s: (typeof latencies)["before"]) =>
      `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(0)} ms (n ${s.n})`;
    console.log(`runner's appendLog before anything expired: ${line(latencies.before)}`);
    console.log(`runner's appendLog while sweeps delete:     ${line(latencies.after)}`);
  }
}

if (process.argv[2] === "writer") await writer(process.argv[3]!);
else await main();
