import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { LogReader, WINDOW_LINES } from "../../src/web/log-reader.js";
import type { Store } from "../../src/store/port.js";
import { startWebHarness, type WebHarness } from "./web-harness.js";

let h: WebHarness;
before(async () => {
  h = await startWebHarness({ pollIntervalMs: 20 });
});
after(() => h.close());

/** Chunks of `perChunk` numbered lines, the last line of each chunk split across chunks. */
function numberedLog(chunks: number, perChunk: number): string[] {
  const text = Array.from({ length: chunks * perChunk }, (_, i) => `line ${i + 1}\n`).join("");
  const size = Math.ceil(text.length / chunks);
  return Array.from({ length: chunks }, (_, i) => text.slice(i * size, (i + 1) * size));
}

function lineNumbers(html: string): number[] {
  return [...html.matchAll(/<div class="line" id="L(\d+)">/g)].map((m) => Number(m[1]));
}

function lineTexts(html: string): string[] {
  return [...html.matchAll(/<span class="lc">(.*?)<\/span><\/div>/g)].map((m) => m[1]!);
}

/**
 * Reads server-sent events until the stream ends or `stopAfter` events; returns them parsed.
 * `seen.open` is called once the server answered, `seen.event` at each event as it arrives.
 */
async function readEvents(
  url: string,
  headers: Record<string, string> = {},
  stopAfter?: number,
  seen: { open?: () => void; event?: (event: string) => void } = {},
) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
  seen.open?.();
  const events: { id?: string; event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = res.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = new Map(
        block
          .split("\n")
          .filter((l) => !l.startsWith(":") && l.includes(":"))
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as const),
      );
      if (!fields.has("event")) continue;
      events.push({
        id: fields.get("id"),
        event: fields.get("event")!,
        data: JSON.parse(fields.get("data")!),
      });
      seen.event?.(fields.get("event")!);
      if (stopAfter !== undefined && events.length >= stopAfter) {
        controller.abort();
        return events;
      }
    }
  }
  return events;
}

const htmlOf = (events: { event: string; data: unknown }[]) =>
  events
    .filter((e) => e.event === "lines")
    .map((e) => (e.data as { html: string }).html)
    .join("\n");

/** Lines from..to as GET /jobs/<id>/lines answers them. */
async function fetchLines(jobId: string, from: number, to: number) {
  const res = await fetch(`${h.url}/jobs/${jobId}/lines?from=${from}&to=${to}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  return (await res.json()) as { from: number | null; to: number | null; html: string };
}

describe("job page and raw log", () => {
  it("opens on the end of the whole log and loads earlier lines in windows, numbered on", async () => {
    const chunks = numberedLog(60, 50);
    const total = 3000;
    const { job } = await h.addJob({ repo: "octo/public", log: chunks });
    const page = await (await fetch(`${h.url}/jobs/${job.id}`)).text();
    const shown = lineNumbers(page);
    assert.equal(shown.length, WINDOW_LINES);
    assert.equal(shown.at(-1), total);
    assert.doesNotMatch(page, /part|\?page=/);
    const more =
      /<button type="button" class="more" data-from="(\d+)" data-to="(\d+)" hidden>Show lines/.exec(
        page,
      );
    assert.deepEqual(more?.slice(1).map(Number), [1, total - WINDOW_LINES]);

    // The button's range, as the page's script asks for it: one window from its end.
    const earlier = await fetchLines(job.id, 1, total - WINDOW_LINES);
    assert.equal(earlier.from, 1);
    assert.equal(earlier.to, total - WINDOW_LINES);
    assert.deepEqual(
      [...lineNumbers(earlier.html), ...shown],
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.deepEqual(
      [...lineTexts(earlier.html), ...lineTexts(page)],
      Array.from({ length: total }, (_, i) => `line ${i + 1}`),
    );
    // Any range gives the same lines; a range longer than a window gives its end.
    assert.deepEqual(lineTexts((await fetchLines(job.id, 1234, 1236)).html), [
      "line 1234",
      "line 1235",
      "line 1236",
    ]);
    const long = await fetchLines(job.id, 1, 1_000_000);
    assert.deepEqual([long.from, long.to], [total - WINDOW_LINES + 1, total]);
    assert.deepEqual(await fetchLines(job.id, total + 1, total + 5), {
      from: null,
      to: null,
      html: "",
    });
    // Old links to parts of the log show the whole log.
    assert.equal(
      lineNumbers(await (await fetch(`${h.url}/jobs/${job.id}?page=0`)).text()).at(-1),
      total,
    );
  });

  it("never puts a 50 MB log into one page or one answer", async () => {
    const { job } = await h.addJob({ repo: "octo/public" });
    const line = "\x1b[32mok\x1b[0m compiling a module with some typical build output text\n";
    const perChunk = Math.floor((64 * 1024) / line.length);
    const chunks = Math.ceil((50 * 1024 * 1024) / (perChunk * line.length));
    for (let seq = 0; seq < chunks; seq++) {
      await h.store.appendLog({ jobId: job.id, seq, data: line.repeat(perChunk) });
    }
    const total = chunks * perChunk;
    const html = await (await fetch(`${h.url}/jobs/${job.id}`)).text();
    assert.ok(html.length < 4 * 1024 * 1024, `${html.length} characters`);
    assert.equal(lineNumbers(html).at(-1), total);
    for (const [from, to] of [
      [1, 999_999_999],
      [Math.floor(total / 2), Math.floor(total / 2) + 10],
    ] as const) {
      const window = await fetchLines(job.id, from, to);
      assert.ok(window.html.length < 4 * 1024 * 1024, `${from}-${to}: ${window.html.length}`);
      assert.equal(window.to, Math.min(to, total));
    }
  });

  it("keeps a window of very long lines within its size, from the end", async () => {
    const { job } = await h.addJob({
      repo: "octo/public",
      log: ["<".repeat(16_000) + "\n"].concat(
        Array.from({ length: 40 }, () => "<".repeat(60_000) + "\n"),
      ),
    });
    const window = await fetchLines(job.id, 1, 1_000_000);
    assert.ok(window.html.length <= 1024 * 1024 + 16_384 * 5, `${window.html.length}`);
    assert.ok(window.from! > 1);
    assert.equal(window.to, lineNumbers(window.html).at(-1));
  });

  it("numbers on across lost chunks of a finished log", async () => {
    const chunks = numberedLog(20, 10);
    const { job: lossy } = await h.addJob({ repo: "octo/public" });
    // Lose chunks 15 and 16 (as if their writes had failed).
    for (const [seq, data] of chunks.entries()) {
      if (seq !== 15 && seq !== 16) await h.store.appendLog({ jobId: lossy.id, seq, data });
    }
    const windows = await Promise.all([
      fetchLines(lossy.id, 1, 100),
      fetchLines(lossy.id, 101, 1000),
    ]);
    const numbers = windows.flatMap((w) => lineNumbers(w.html));
    assert.deepEqual(
      numbers,
      Array.from({ length: numbers.length }, (_, i) => i + 1),
    );
    assert.match(windows[1].html, /2 chunks of this log \(from chunk 15\) could not be stored/);
    assert.equal(lineTexts(windows[1].html).at(-1), "line 200");
    const page = await (await fetch(`${h.url}/jobs/${lossy.id}`)).text();
    assert.deepEqual(lineNumbers(page), numbers);
  });

  it("numbers the same when several windows of a new log are asked for at once", async () => {
    const chunks = numberedLog(48, 200);
    const { job } = await h.addJob({ repo: "octo/public", log: chunks });
    const ranges = [
      [1, 2000],
      [2001, 4000],
      [4001, 6000],
      [6001, 8000],
      [8001, 9600],
    ] as const;
    const numbersOf = (lines: { n: number; html: string }[]) =>
      lines.map((l) => `${l.n}:${l.html}`);
    const sequentialReader = new LogReader(h.store);
    const sequential: string[][] = [];
    for (const [from, to] of ranges)
      sequential.push(numbersOf(await sequentialReader.readLines(job.id, from, to, true)));
    assert.deepEqual(
      sequential.flat(),
      Array.from({ length: 9600 }, (_, i) => `${i + 1}:line ${i + 1}`),
    );

    // A store that answers after a while (as DynamoDB does), so the reads interleave.
    let delay = 0;
    const slowStore: Store = Object.create(h.store, {
      readLog: {
        value: async (...args: Parameters<Store["readLog"]>) => {
          await new Promise((resolve) => setTimeout(resolve, (delay = (delay + 7) % 13)));
          return h.store.readLog(...args);
        },
      },
    });
    const reader = new LogReader(slowStore);
    const order = [4, 2, 0, 4, 3, 1];
    const concurrent = await Promise.all(
      order.map(async (i) =>
        numbersOf(await reader.readLines(job.id, ranges[i]![0], ranges[i]![1], true)),
      ),
    );
    for (const [i, r] of order.entries())
      assert.deepEqual(concurrent[i], sequential[r], `range ${r}`);
  });

  it("searches the whole log on the server: every matching line, capped, case-insensitive", async () => {
    const chunks = numberedLog(100, 2000);
    const { job } = await h.addJob({ repo: "octo/public", log: chunks });
    const search = async (q: string) => {
      const res = await fetch(`${h.url}/jobs/${job.id}/search?q=${encodeURIComponent(q)}`);
      return { status: res.status, body: await res.text() };
    };
    // Line 7 is far before the page's window of the last 2,000 of 200,000 lines.
    const one = await search("LINE 7\n".trim());
    assert.equal(one.status, 200);
    const found = JSON.parse(one.body) as { lines: number[]; capped: boolean };
    assert.deepEqual(found.lines.slice(0, 3), [7, 70, 71]);
    assert.equal(found.lines.length, 1000);
    assert.equal(found.capped, true);
    assert.deepEqual(JSON.parse((await search("line 123456")).body), {
      lines: [123456],
      capped: false,
    });
    assert.deepEqual(JSON.parse((await search("no such text")).body), { lines: [], capped: false });
    const empty = await search(" ");
    assert.equal(empty.status, 400);
    assert.match(empty.body, /q must not be empty/);
    const long = await search("x".repeat(201));
    assert.equal(long.status, 400);
    assert.match(long.body, /at most 200 characters/);
  });

  it("streams the raw log as stored, chunk by chunk", async () => {
    const chunks = numberedLog(70, 20);
    const { job } = await h.addJob({ repo: "octo/public", log: chunks });
    const res = await fetch(`${h.url}/jobs/${job.id}/log.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await res.text(), chunks.join(""));
  });

  it("shows the job's facts and links to the commit, check run and pull request on GitHub", async () => {
    const { job, build } = await h.addJob({
      repo: "octo/public",
      build: { pullRequest: 12, event: "pull_request", trigger: "hubot" },
      job: { hook: "lint", status: "completed", conclusion: "failure", exitCode: 2 },
      log: ["\x1b[31merror\x1b[0m: <b>bad</b>\n"],
    });
    const html = await (await fetch(`${h.url}/jobs/${job.id}`)).text();
    const gh = h.oauth.webUrl;
    assert.ok(html.includes(`href="${gh}/octo/public/commit/${build.sha}"`));
    assert.ok(html.includes(`href="${gh}/octo/public/pull/12"`));
    assert.ok(html.includes(`href="${gh}/octo/public/runs/77"`));
    assert.match(html, /Failed \(exit code 2\)/);
    assert.match(html, /pull request by hubot/);
    assert.match(html, /build 12 s, total 16 s/);
    assert.ok(html.includes('<span class="fg1">error</span>: &#60;b&#62;bad&#60;/b&#62;'));
    assert.doesNotMatch(html, /follow\.js/, "a finished job needs no live tail");
  });
});

describe("live tail", () => {
  it("starting mid-job, loses and doubles no line while chunks arrive out of order", async () => {
    const chunks = numberedLog(12, 7);
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "building", conclusion: undefined },
      log: chunks.slice(0, 4),
    });
    const page = await (await fetch(`${h.url}/jobs/${job.id}`)).text();
    assert.match(page, /data-live="true" data-next-seq="4"/);
    assert.match(page, /<script src="\/assets\/follow.js" defer>/);
    const shown = lineTexts(page);

    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const events = readEvents(`${h.url}/jobs/${job.id}/live?seq=4`, {}, undefined, {
      open: opened,
    });
    // Chunk 6 before 5, as parallel writers may store them, while the tail is open; then
    // the job ends. The pause gives the tail's 50 ms poll a chance to find 6 without 5.
    await open;
    await h.store.appendLog({ jobId: job.id, seq: 6, data: chunks[6]! });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await h.store.appendLog({ jobId: job.id, seq: 5, data: chunks[5]! });
    await h.store.appendLog({ jobId: job.id, seq: 4, data: chunks[4]! });
    for (let seq = 7; seq < chunks.length; seq++) {
      await h.store.appendLog({ jobId: job.id, seq, data: chunks[seq]! });
    }
    await h.store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "success",
    });
    const received = await events;
    const streamed = lineTexts(htmlOf(received));
    assert.deepEqual(
      [...shown, ...streamed],
      Array.from({ length: 84 }, (_, i) => `line ${i + 1}`),
    );
    assert.deepEqual(
      lineNumbers(htmlOf(received)),
      Array.from({ length: streamed.length }, (_, i) => shown.length + i + 1),
    );
    const end = received.at(-1)!;
    assert.equal(end.event, "end");
    assert.equal((end.data as { status: string }).status, "completed");
    assert.match((end.data as { statusHtml: string }).statusHtml, /Succeeded/);
  });

  it("resumes exactly after the last event it sent (Last-Event-ID)", async () => {
    const chunks = numberedLog(6, 5);
    const { job } = await h.addJob({
      repo: "octo/public",
      job: { status: "running", phase: "building", conclusion: undefined },
      log: chunks.slice(0, 3),
    });
    // The job's state, then the first lines.
    const first = await readEvents(`${h.url}/jobs/${job.id}/live?seq=0`, {}, 2);
    assert.deepEqual(
      first.map((e) => e.event),
      ["state", "lines"],
    );
    const firstLines = lineTexts(htmlOf(first));
    for (let seq = 3; seq < 6; seq++)
      await h.store.appendLog({ jobId: job.id, seq, data: chunks[seq]! });
    await h.store.transitionJob(job.id, ["running"], {
      status: "completed",
      conclusion: "success",
    });
    const rest = await readEvents(`${h.url}/jobs/${job.id}/live?seq=0`, {
      "last-event-id": first[1]!.id!,
    });
    assert.deepEqual(
      [...firstLines, ...lineTexts(htmlOf(rest))],
      Array.from({ length: 30 }, (_, i) => `line ${i + 1}`),
    );
  });

  it("with liveMaxMs 0 (Lambda), answers with the lines there are and lets the browser poll", async () => {
    const polling = await startWebHarness({ liveMaxMs: 0 });
    try {
      const { job } = await polling.addJob({
        repo: "octo/public",
        job: { status: "running", phase: "building", conclusion: undefined },
        log: ["one\ntw"],
      });
      const first = await (await fetch(`${polling.url}/jobs/${job.id}/live?seq=0`)).text();
      assert.match(first, /^retry: 2000\n\nevent: state\ndata: .*\n\nid: 1\nevent: lines\n/);
      assert.deepEqual(lineTexts(first.replaceAll('\\"', '"')), ["one"]);
      assert.doesNotMatch(first, /event: end/);
      await polling.store.appendLog({ jobId: job.id, seq: 1, data: "o\n" });
      const second = await (
        await fetch(`${polling.url}/jobs/${job.id}/live`, { headers: { "last-event-id": "1" } })
      ).text();
      assert.deepEqual(lineTexts(second.replaceAll('\\"', '"')), ["two"]);
    } finally {
      await polling.close();
    }
  });

  it(
    "ends open live tails when the handler is closed (shutdown), without an end event",
    { timeout: 10_000 },
    async () => {
      const stopping = await startWebHarness({ pollIntervalMs: 20 });
      try {
        const { job } = await stopping.addJob({
          repo: "octo/public",
          job: { status: "running", phase: "building", conclusion: undefined },
          log: ["a\n"],
        });
        let shown!: () => void;
        const linesShown = new Promise<void>((resolve) => (shown = resolve));
        const events = readEvents(`${stopping.url}/jobs/${job.id}/live?seq=0`, {}, undefined, {
          event: (name) => name === "lines" && shown(),
        });
        await linesShown;
        stopping.stopLiveTails();
        const received = await events;
        assert.deepEqual(
          received.map((e) => e.event),
          ["state", "lines"],
        );
      } finally {
        await stopping.close();
      }
    },
  );

  it("refuses a seq past the stored log with a clear 400", async () => {
    const { job } = await h.addJob({ repo: "octo/public", log: ["a\n"] });
    const res = await fetch(`${h.url}/jobs/${job.id}/live?seq=5`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /no chunk 5/);
  });
});
