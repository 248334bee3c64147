// The two processes of bench/live-follow.bench.ts, each on its own so its memory is its own:
//   server <dataDir>                          the log pages on the embedded store, production
//                                             poll interval; prints {url, jobId}, then RSS
//   writer <dataDir> <jobId> <lines/s> <s>    a job's output through the runner's log path
//                                             (masker, tee, workflow commands, StoreLogWriter
//                                             at its production flush settings); prints RSS
// Each prints JSON lines on stdout.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { LogTail, teeLogSink } from "../runner/logs/log-tail.js";
import { maskingSink, SecretMasker } from "../runner/logs/secret-masker.js";
import { StoreLogWriter } from "../runner/logs/store-log-writer.js";
import { WorkflowCommands } from "../runner/logs/workflow-commands.js";
import { openEmbeddedStore } from "../src/store/embedded-store.js";
import { listen } from "../src/http/listen.js";
import { createWebApp } from "../src/web/web-app.js";

const [mode, dataDir, ...rest] = process.argv.slice(2);
if (!dataDir) throw new Error("usage: live-follow-child.ts server|writer <dataDir> ...");
const store = openEmbeddedStore({ dataDir });
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
const rssEverySecond = () =>
  setInterval(() => say({ rss: process.memoryUsage().rss, at: Date.now() }), 1000);

if (mode === "server") {
  const repo = { id: 4242, fullName: "bench/live", private: false };
  const now = Date.now();
  const buildId = `build-${randomUUID()}`;
  const jobId = `job-${randomUUID()}`;
  await store.createBuild(
    {
      id: buildId,
      installationId: 1,
      repoId: repo.id,
      repoFullName: repo.fullName,
      repoPrivate: false,
      sha: "b".repeat(40),
      ref: "refs/heads/main",
      event: "push",
      trigger: "bench",
      trust: "trusted",
      createdAt: now,
    },
    [
      {
        id: jobId,
        buildId,
        repoId: repo.id,
        repoFullName: repo.fullName,
        sha: "b".repeat(40),
        hook: "test",
        status: "running",
        phase: "building",
        createdAt: now,
        updatedAt: now,
        startedAt: now,
      },
    ],
  );
  const pages = createWebApp({
    store,
    settings: {
      publicUrl: "http://127.0.0.1",
      githubWebUrl: "http://127.0.0.1:9",
      githubApiUrl: "http://127.0.0.1:9/api/v3",
      oauth: { enabled: false, missing: ["GITHUB_CLIENT_ID"] },
    },
    actions: {
      rerun: async () => ({ buildId: "none" }),
      cancel: async () => {},
    },
    findRepository: async (name) => (name === repo.fullName ? repo : undefined),
  });
  const server = await listen(pages.app.fetch, { host: "127.0.0.1", port: 0 });
  say({ url: server.url, jobId });
  rssEverySecond();
  process.on("SIGTERM", () => {
    pages.close();
    server.server.closeAllConnections();
    void server.close().then(() => process.exit(0));
  });
} else if (mode === "writer") {
  const [jobId, rateText, secondsText] = rest;
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const writer = new StoreLogWriter({
    store,
    jobId: jobId!,
    onError: (error) => say({ error: String(error) }),
  });
  const masker = new SecretMasker();
  masker.add(["not-in-the-output-0123456789"]);
  const sink = maskingSink(teeLogSink(writer, new LogTail(), new WorkflowCommands()), masker);
  const sampler = rssEverySecond();
  const start = Date.now();
  let written = 0;
  // Lines carry the time they were written, so the page can tell how late each arrives.
  while (Date.now() - start < seconds * 1000) {
    const due = Math.min(
      Math.floor(rate * seconds),
      Math.floor(((Date.now() - start) / 1000) * rate),
    );
    let text = "";
    for (; written < due; written++) {
      text += `\x1b[32mok\x1b[0m line ${written + 1} t=${Date.now()} ${"x".repeat(24)}\n`;
    }
    if (text) sink.write(text);
    await sleep(10);
  }
  let last = "";
  for (; written < Math.floor(rate * seconds); written++) {
    last += `\x1b[32mok\x1b[0m line ${written + 1} t=${Date.now()} ${"x".repeat(24)}\n`;
  }
  if (last) sink.write(last);
  await writer.flush();
  await store.transitionJob(jobId!, ["running"], {
    status: "completed",
    conclusion: "success",
    finishedAt: Date.now(),
  });
  clearInterval(sampler);
  say({
    done: true,
    lines: written,
    bytes: writer.bytesAccepted,
    dropped: writer.bytesDropped,
    chunks: writer.chunksStored,
  });
  await store.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
