// Following a busy job live, as a reader's browser does (run by `npm run bench`, never by
// tests): a job prints BENCH_LIVE_RATE lines a second (5,000) for BENCH_LIVE_SECONDS (60)
// through the runner's log path (secret masker, tee, workflow commands, StoreLogWriter at its
// production flush interval) into the embedded store; the log pages serve it with their
// production poll interval; headless Chromium follows the job's page. Measured: how late each
// line appears on the page (written -> in the page's DOM), and the RSS of the writing process
// and of the server, sampled every second. Baseline: the same at BENCH_LIVE_BASE_RATE lines a
// second (50), where the lag is the flush and poll intervals alone.
//   npx tsx bench/live-follow.bench.ts
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { launchBrowser } from "../test/support/browser.js";

const RATE = Number(process.env.BENCH_LIVE_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const BASE_RATE = Number(process.env.BENCH_LIVE_BASE_RATE ?? 50);
const BASE_SECONDS = Number(process.env.BENCH_LIVE_BASE_SECONDS ?? 20);
const CHILD = new URL("./live-follow-child.ts", import.meta.url).pathname;

interface Child {
  process: ChildProcess;
  rss: { at: number; rss: number }[];
  messages: Record<string, unknown>[];
  next(predicate: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function startChild(args: string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const rss: Child["rss"] = [];
  const messages: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    if (typeof message.rss === "number") rss.push(message as { at: number; rss: number });
    else messages.push(message);
    for (const waiter of waiters.splice(0)) {
      if (waiter.predicate(message)) waiter.resolve(message);
      else waiters.push(waiter);
    }
  });
  return {
    process: child,
    rss,
    messages,
    next: (predicate) =>
      new Promise((resolve, reject) => {
        const seen = messages.find(predicate);
        if (seen) return resolve(seen);
        waiters.push({ predicate, resolve });
        child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
      }),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** RSS over the run: at its first quarter's end, at the end, and the peak. */
function rssSummary(samples: { at: number; rss: number }[]): string {
  if (samples.length === 0) return "no samples";
  const peak = Math.max(...samples.map((s) => s.rss));
  const quarter = samples[Math.floor(samples.length / 4)]!.rss;
  return `${mb(quarter)} after a quarter, ${mb(samples.at(-1)!.rss)} at the end, peak ${mb(peak)}`;
}

async function run(rate: number, seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-live-bench-"));
  const server = startChild(["server", dir]);
  const browser = await launchBrowser();
  try {
    const { url, jobId } = (await server.next((m) => typeof m.url === "string")) as {
      url: string;
      jobId: string;
    };
    const page = await browser.context.newPage();
    // When each line reaches the page's DOM, against the time the job wrote it.
    await page.addInitScript(() => {
      const lags: number[] = [];
      (window as unknown as { kozmicLags: number[] }).kozmicLags = lags;
      const longTasks: number[] = [];
      (window as unknown as { kozmicLong: number[] }).kozmicLong = longTasks;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longTasks.push(Math.round(e.duration));
      }).observe({ type: "longtask", buffered: true });
      new MutationObserver((records) => {
        const now = Date.now();
        for (const record of records) {
          for (const node of record.addedNodes) {
            if (!(node instanceof Element)) continue;
            const lines = node.matches(".line")
              ? [node]
              : Array.from(node.querySelectorAll(".line"));
            for (const line of lines) {
              const t = / t=(\d+) /.exec(line.textContent ?? "");
              if (t) lags.push(now - Number(t[1]));
            }
          }
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${url}/jobs/${jobId}`);
    await page.locator("#follow").waitFor();

    const writer = startChild(["writer", dir, jobId, String(rate), String(seconds)]);
    const done = (await writer.next((m) => m.done === true)) as { lines: number; dropped: number };
    await page.locator("#status", { hasText: "Succeeded" }).waitFor({ timeout: 120_000 });
    const lags = (
      await page.evaluate(() => (window as unknown as { kozmicLags: number[] }).kozmicLags)
    ).sort((a, b) => a - b);
    const domLines = await page.locator("#log .line").count();
    // The page's main thread busy for longer than 50 ms at a time, in all.
    const busyMs = (
      await page.evaluate(() => (window as unknown as { kozmicLong: number[] }).kozmicLong)
    ).reduce((a, b) => a + b, 0);
    await page.close();
    return {
      rate,
      seconds,
      written: done.lines,
      dropped: done.dropped,
      shown: lags.length,
      domLines,
      busyMs,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: lags.at(-1) ?? NaN,
      writerRss: rssSummary(writer.rss),
      serverRss: rssSummary(server.rss),
    };
  } finally {
    server.process.kill("SIGTERM");
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: Awaited<ReturnType<typeof run>>) {
  console.log(
    `${r.rate} lines/s for ${r.seconds} s: ${r.written} lines written (${r.dropped} bytes dropped), ` +
      `${r.shown} reached the page (${r.domLines} kept in its DOM)`,
  );
  console.log(`  lag written -> on the page: p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`);
  console.log(`  the page's main thread in long tasks: ${(r.busyMs / 1000).toFixed(1)} s`);
  console.log(`  writer RSS: ${r.writerRss}`);
  console.log(`  server RSS: ${r.serverRss}`);
}

console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores`,
);
const base = await run(BASE_RATE, BASE_SECONDS);
report(base);
const busy = await run(RATE, SECONDS);
report(busy);
console.log(
  `p99 lag at ${RATE} lines/s is ${(busy.p99 / base.p99).toFixed(2)}x the p99 at ${BASE_RATE} lines/s ` +
    `(target: under 2 s: ${busy.p99 < 2000 ? "met" : "NOT met"}); ` +
    `load average after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
);
