// The log page of a finished failing job with a long ANSI log (200,000 lines, ~20 MB by
// default), stored as a runner stores it (StoreLogWriter and section records into the
// embedded SQLite store) and served by the real web app in a process of its own:
//
// - Headless Chromium opening the job page: first contentful paint, and the time until the
//   failed section's last line is in the viewport; against Chromium opening the same log's
//   raw `log.txt` (first paint and load) in the same run. Medians of ROUNDS, each in a
//   fresh page, the server's log outline already made by a first visit (reported apart).
// - The server's peak RSS (VmHWM) after serving the page, the windows before the failure,
//   a search and the raw log, for the long log and for one a tenth of its size: the page
//   must not hold a whole log in memory, so the two should be close.
//
//   node --import tsx bench/log-page.bench.ts
//   KOZMIC_BENCH_LOG_LINES=50000 KOZMIC_BENCH_LOG_ROUNDS=3 node --import tsx bench/log-page.bench.ts
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { StoreLogWriter } from "../runner/logs/store-log-writer.js";
import { storeSections } from "../runner/logs/section-recorder.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import { listen } from "../src/http/listen.js";
import { createWebApp } from "../src/web/web-app.js";
import { launchBrowser } from "../test/support/browser.js";
import { aBuild, aJob } from "../test/support/job-fixtures.js";

const LINES = Number(process.env.KOZMIC_BENCH_LOG_LINES ?? 200_000);
const ROUNDS = Number(process.env.KOZMIC_BENCH_LOG_ROUNDS ?? 5);
const MIB = 2 ** 20;

/** The child: the web app over the store in `dataDir`, on a free 127.0.0.1 port. */
async function serve(dataDir: string): Promise<void> {
  const store = openEmbeddedStore({ dataDir });
  // The pages are made once the port, their public URL, is known.
  const holder: { pages?: ReturnType<typeof createWebApp> } = {};
  const server = await listen((request, env) => holder.pages!.app.fetch(request, env), {
    host: "127.0.0.1",
    port: 0,
  });
  holder.pages = createWebApp({
    store,
    settings: {
      publicUrl: server.url,
      githubWebUrl: "http://127.0.0.1:9",
      githubApiUrl: "http://127.0.0.1:9/api/v3",
      oauth: { enabled: false, missing: ["GITHUB_CLIENT_ID"] },
    },
    actions: { rerun: async () => ({ buildId: "none" }), cancel: async () => undefined },
    findRepository: async (fullName) => ({ id: 7, fullName, private: false }),
  });
  console.log(server.url);
}

/** A build's output with colours, as a test runner prints it, ending in a failure. */
function buildLine(i: number): string {
  return `${buildText(i)} ${"·".repeat(i % 40)}`;
}

function buildText(i: number): string {
  switch (i % 5) {
    case 0:
      return `\x1b[32m✓\x1b[0m test_module_${i} passes (${i % 13} ms)`;
    case 1:
      return `[${i}] CC src/module_${i % 97}.c -o build/module_${i % 97}.o -O2 -Wall -Wextra -g`;
    case 2:
      return `\x1b[1m\x1b[34minfo\x1b[0m compiling crate_${i % 41} v0.${i % 9}.0 (/src/crates/crate_${i % 41})`;
    case 3:
      return `  at Object.<anonymous> (/src/test/file_${i % 71}.test.js:${i % 400}:${i % 30})`;
    default:
      return `Downloading package-${i % 50}.tar.gz  ${i % 100}% [=====>      ] ${i} kB`;
  }
}

/** Writes a finished failing job with `lines` lines of build output; returns its id and size. */
async function writeJob(
  dataDir: string,
  lines: number,
): Promise<{ jobId: string; bytes: number; lastLine: number }> {
  const store = openEmbeddedStore({ dataDir });
  const build = aBuild({ repoFullName: "octo/bench" });
  const job = aJob(build, { status: "running" });
  await store.createBuild(build, [job]);
  const log = new StoreLogWriter({ store, jobId: job.id, flushIntervalMs: 50 });
  const sections = storeSections({ store, jobId: job.id, cut: () => log.cut() });
  let bytes = 0;
  let written = 0;
  const write = async (text: string) => {
    log.write(text);
    bytes += Buffer.byteLength(text);
    if (log.bytesBuffered > 2 * MIB) await log.flush();
  };
  const writeLine = (line: string) => {
    written += 1;
    return write(line + "\n");
  };
  sections.start("preparing", "Preparing: node:20");
  await writeLine("==> hook test");
  sections.start("install", "Install skipped: cache hit 3f2a9c1e0b7d");
  await writeLine("==> install skipped");
  sections.start("build", "Build");
  for (let i = 1; i <= lines - 5; i++) await writeLine(buildLine(i));
  await writeLine("\x1b[31mAssertionError: expected 200 to equal 201\x1b[0m");
  await writeLine("FAILED test_login - AssertionError");
  await writeLine("==> build exit code 1");
  sections.end("failure");
  await log.flush();
  await sections.flush();
  await store.transitionJob(job.id, ["queued", "running"], {
    status: "completed",
    conclusion: "failure",
    exitCode: 1,
    finishedAt: Date.now(),
  });
  await store.close();
  return { jobId: job.id, bytes, lastLine: written };
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "serve", dataDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, url };
}

/** Peak and current resident memory of a process, in MiB. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)![1]);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measurePages(url: string, jobId: string, lastLine: number) {
  const browser = await launchBrowser();
  try {
    const visit = async (path: string, inView?: string) => {
      const page = await browser.context.newPage();
      await page.goto(`${url}${path}`, { waitUntil: inView ? "commit" : "load", timeout: 300_000 });
      let seen: number | undefined;
      if (inView) {
        await page.waitForFunction(
          (id) => {
            const box = document.getElementById(id)?.getBoundingClientRect();
            // Scrolled to the end, a line's bottom may sit a fraction of a pixel below.
            return !!box && box.top >= 0 && box.bottom <= window.innerHeight + 1;
          },
          inView,
          { polling: "raf", timeout: 120_000 },
        );
        seen = await page.evaluate(() => performance.now());
        await page.waitForLoadState("load");
      }
      const timing = await page.evaluate(() => ({
        paint:
          performance.getEntriesByName("first-contentful-paint")[0]?.startTime ??
          performance.getEntriesByName("first-paint")[0]?.startTime ??
          NaN,
        load: performance.getEntriesByType("navigation")[0]!.toJSON().loadEventEnd as number,
      }));
      await page.close();
      return { ...timing, inView: seen ?? NaN };
    };
    const first = await visit(`/jobs/${jobId}`, `L${lastLine}`);
    const page: { paint: number; inView: number; load: number }[] = [];
    const raw: { paint: number; load: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      page.push(await visit(`/jobs/${jobId}`, `L${lastLine}`));
      raw.push(await visit(`/jobs/${jobId}/log.txt`));
    }
    return {
      first,
      page: {
        paint: median(page.map((p) => p.paint)),
        inView: median(page.map((p) => p.inView)),
        load: median(page.map((p) => p.load)),
      },
      raw: { paint: median(raw.map((p) => p.paint)), load: median(raw.map((p) => p.load)) },
    };
  } finally {
    await browser.close();
  }
}

/**
 * What a reader does on the page, straight over HTTP: the page (its first visit reads the
 * whole log once), ten windows before the failure, a search, the raw log. Returns the first
 * visit's time and the server's peak RSS after each step.
 */
async function exercise(
  url: string,
  jobId: string,
  lastLine: number,
  pid: number,
): Promise<{ coldMs: number; peaks: string }> {
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    await res.arrayBuffer();
  };
  const peaks: string[] = [];
  const step = (name: string) => peaks.push(`${name} ${memoryOf(pid).peak.toFixed(0)}`);
  // The server's modules load on its first request: a page that reads no log.
  await fetch(`${url}/jobs/job-none`).then((res) => res.arrayBuffer());
  const cold = performance.now();
  await get(`/jobs/${jobId}`);
  const coldMs = performance.now() - cold;
  step("page");
  for (let to = lastLine - 2000; to > 0 && to > lastLine - 20_000; to -= 2000)
    await get(`/jobs/${jobId}/lines?from=1&to=${to}`);
  await get(`/jobs/${jobId}/lines?from=1&to=2000`);
  step("windows");
  await get(`/jobs/${jobId}/search?q=${encodeURIComponent("module_13.c")}`);
  step("search");
  await get(`/jobs/${jobId}/log.txt`);
  step("raw");
  return { coldMs, peaks: peaks.join(", ") };
}

async function main(): Promise<void> {
  const sizes = [Math.round(LINES / 10), LINES];
  const memory: string[] = [];
  for (const lines of sizes) {
    const dataDir = mkdtempSync(join(tmpdir(), "kozmic-bench-log-"));
    try {
      const started = performance.now();
      const { jobId, bytes, lastLine } = await writeJob(dataDir, lines);
      const wrote = performance.now() - started;
      const { child, url } = await startServer(dataDir);
      try {
        const idle = memoryOf(child.pid!);
        const t0 = performance.now();
        const { coldMs: cold, peaks } = await exercise(url, jobId, lastLine, child.pid!);
        const served = performance.now() - t0;
        const used = memoryOf(child.pid!);
        memory.push(
          `${lines} lines (${(bytes / MIB).toFixed(1)} MiB): server RSS idle ${idle.now.toFixed(0)} MiB, ` +
            `peak after serving ${used.peak.toFixed(0)} MiB (+${(used.peak - idle.peak).toFixed(0)}); ` +
            `written in ${(wrote / 1000).toFixed(1)} s; first page (reads the whole log once) ${cold.toFixed(0)} ms; ` +
            `page, 10 windows, a search and the raw log in ${(served / 1000).toFixed(1)} s; ` +
            `peak MiB after: ${peaks}`,
        );
        console.log(memory.at(-1));
        if (lines === LINES) {
          const t = await measurePages(url, jobId, lastLine);
          const ms = (n: number) => `${n.toFixed(0)} ms`;
          console.log(
            `first visit (outline already made by the HTTP pass): paint ${ms(t.first.paint)}, failure in view ${ms(t.first.inView)}`,
          );
          console.log(
            `job page, median of ${ROUNDS}: first paint ${ms(t.page.paint)}, failure in view ${ms(t.page.inView)}, load ${ms(t.page.load)}`,
          );
          console.log(
            `raw log.txt (baseline), median of ${ROUNDS}: first paint ${ms(t.raw.paint)}, load ${ms(t.raw.load)}`,
          );
          console.log(
            `failure in view / raw log first paint: x${(t.page.inView / t.raw.paint).toFixed(2)}; / raw log load: x${(t.page.inView / t.raw.load).toFixed(2)}`,
          );
        }
      } finally {
        child.kill();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

if (process.argv[2] === "serve") await serve(process.argv[3]!);
else await main();
