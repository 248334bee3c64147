import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { isFinal } from "../core/job-state.js";
import { isArtifactKey } from "../store/artifact-port.js";
import type { BuildRecord, JobRecord } from "../store/port.js";
import { feedLog, type LogCursor } from "./feed-log.js";
import { HttpError, readForm, redirect, sendHtml } from "./http-replies.js";
import { WINDOW_LINES } from "./log-reader.js";
import { isFailed, outlineRanges, startsFolded, type LineRange } from "./log-sections.js";
import {
  renderDurations,
  renderJobActions,
  renderJobPage,
  renderJobStatus,
  type LogView,
  type PageContext,
} from "./render-pages.js";
import {
  jobSectionOutcome,
  renderLiveLines,
  renderLogLines,
  type RangeView,
} from "./render-log.js";
import {
  findReadableJob,
  intParam,
  NotFound,
  pageContext,
  requireWriter,
  sendJson,
  type Page,
  type WebServices,
} from "./web-request.js";

const MAX_LINE = 999_999_999;
/**
 * Chunks a live event carries at most (1 MiB of log): a tail that fell behind catches up in
 * events of bounded size, so the server never holds a large backlog rendered at once.
 */
const LIVE_BATCH = 16;
/** A live tail ends after this long; the browser reconnects where it stopped (Last-Event-ID). */
const LIVE_MAX_MS = 5 * 60_000;
const KEEP_ALIVE_MS = 15_000;
/** Longest search text, and the most matching lines one search returns. */
const MAX_QUERY = 200;
const MAX_MATCHES = 1000;

/** A folded range this short comes with its lines (so small logs need no script)... */
const SMALL_RANGE = 300;
/** ...while the page holds at most this many lines of folded ranges. */
const FOLDED_BUDGET = 2000;

/**
 * The job page's log: every range's header, the end of each open one (a failed section's
 * end, a running section's newest lines) and the whole of short folded ones.
 */
async function readLogView(web: WebServices, job: JobRecord): Promise<LogView> {
  const { reader } = web;
  const final = isFinal(job.status);
  const outline = await reader.outline(job.id, final);
  // Read after the chunks: a section whose chunks were read is recorded by now.
  const sections = await web.deps.store.readLogSections(job.id);
  const end = { final, jobOutcome: jobSectionOutcome(job), finishedAt: job.finishedAt };
  const ranges = outlineRanges(
    sections,
    { lines: outline.lines, endSeq: outline.end.seq, lineAt: outline.lineAt },
    end,
  );
  let budget = FOLDED_BUDGET;
  const views = await Promise.all(
    ranges.map(async (range): Promise<RangeView> => {
      const open = !range.section || !startsFolded(range.section.state, final);
      const size = range.last - range.first + 1;
      let from: number | undefined;
      if (open) from = Math.max(range.first, range.last - WINDOW_LINES + 1);
      else if (size <= SMALL_RANGE && size <= budget) {
        budget -= size;
        from = range.first;
      }
      const lines =
        from === undefined || size <= 0
          ? []
          : await reader.readLines(job.id, from, range.last, final);
      return { ...range, open, lines };
    }),
  );
  const view: LogView = {
    ranges: views,
    sections,
    lineCount: outline.lines,
    nextSeq: outline.end.seq,
  };
  const failed = ranges.filter((r) => r.section && isFailed(r.section.state)).at(-1);
  const failing: LineRange | undefined =
    failed ??
    (final && job.conclusion !== "success" ? { first: 1, last: outline.lines } : undefined);
  if (failing && failing.last >= failing.first) {
    const firstError = outline.errors.find((e) => e >= failing.first && e <= failing.last);
    view.jumps = { end: failing.last, ...(firstError === undefined ? {} : { firstError }) };
  }
  return view;
}

/**
 * GET /jobs/<id>: the job's facts and its whole log: every section's header, a failed
 * section open at its end, other lines loaded on demand (GET /jobs/<id>/lines).
 */
export const serveJobPage: Page<[jobId: string]> = async (web, r, jobId) => {
  const { job, build, access } = await findReadableJob(web, r, jobId);
  const log = await readLogView(web, job);
  // Kept once the build ended: a running job has none yet.
  const artifacts =
    web.deps.artifacts && isFinal(job.status) ? await web.deps.artifacts.list(job.id) : [];
  return sendHtml(
    200,
    renderJobPage(pageContext(web, r), {
      build,
      job,
      canWrite: access.write,
      ...log,
      artifacts,
      now: Date.now(),
    }),
  );
};

/**
 * GET /jobs/<id>/lines?from=a&to=b: lines a..b rendered (JSON `{from, to, html}`), at most a
 * window of them (log-reader.ts), taken from the end of the range.
 */
export const serveLogLines: Page<[jobId: string]> = async (web, r, jobId) => {
  const from = intParam(r.url, "from", MAX_LINE, 1);
  const to = intParam(r.url, "to", MAX_LINE, MAX_LINE);
  const { job } = await findReadableJob(web, r, jobId);
  const final = isFinal(job.status);
  const lines = await web.reader.readLines(job.id, Math.max(1, from), to, final);
  const sections = await web.deps.store.readLogSections(job.id);
  return sendJson({
    from: lines[0]?.n ?? null,
    to: lines.at(-1)?.n ?? null,
    html: renderLogLines(lines, sections).toString(),
  });
};

/** GET /jobs/<id>/search?q=text: the numbers of the lines holding the text, through the whole log. */
export const serveLogSearch: Page<[jobId: string]> = async (web, r, jobId) => {
  const query = r.url.searchParams.get("q") ?? "";
  if (query.trim() === "") throw new HttpError(400, "Query parameter q must not be empty.");
  if (query.length > MAX_QUERY)
    throw new HttpError(400, `Query parameter q must be at most ${MAX_QUERY} characters.`);
  const { job } = await findReadableJob(web, r, jobId);
  const found = await web.reader.search(job.id, query, isFinal(job.status), MAX_MATCHES);
  return sendJson(found);
};

/**
 * GET /jobs/<id>/log.txt: the raw log, chunk by chunk as stored. Each write waits for the
 * reader, so a slow reader slows the stream.
 */
export const serveRawLog: Page<[jobId: string]> = async (web, r, jobId) => {
  const { job } = await findReadableJob(web, r, jobId);
  r.c.header("content-type", "text/plain; charset=utf-8");
  r.c.header("content-disposition", "inline");
  if (r.c.req.method === "HEAD") return r.c.body(null);
  return r.c.body(
    streamText(async (out) => {
      let seq = 0;
      while (!out.signal.aborted) {
        const chunks = await web.deps.store.readLog(job.id, seq, LIVE_BATCH);
        for (const chunk of chunks) await out.write(chunk.data);
        if (chunks.length < LIVE_BATCH) break;
        seq = chunks[chunks.length - 1]!.seq + 1;
      }
    }),
  );
};

/**
 * GET /jobs/<id>/live?seq=n: server-sent events. `lines` events carry rendered, numbered
 * lines and the chunk seq to resume from as their id; `end` carries the final status.
 */
export const serveLiveLog: Page<[jobId: string]> = async (web, r, jobId) => {
  const lastEventId = r.c.req.header("last-event-id");
  let seq = intParam(r.url, "seq", 100_000_000, 0);
  if (typeof lastEventId === "string" && lastEventId !== "") {
    if (!/^\d{1,9}$/.test(lastEventId))
      throw new HttpError(400, "Last-Event-ID must be a chunk number.");
    seq = Number(lastEventId);
  }
  const { job, build, access } = await findReadableJob(web, r, jobId);
  const cursor = await web.reader.cursorAt(job.id, seq, isFinal(job.status));
  if (!cursor) throw new HttpError(400, `The log of this job has no chunk ${seq} yet.`);

  r.c.header("content-type", "text/event-stream; charset=utf-8");
  r.c.header("x-accel-buffering", "no");
  if (r.c.req.method === "HEAD") return r.c.body(null);
  const page = { ctx: pageContext(web, r), build, canWrite: access.write };
  return r.c.body(streamText((out) => tailLog(web, out, job, cursor, page)));
};

/** The job's page as the viewer sees it: their actions are rendered into `state` events. */
interface LivePage {
  ctx: PageContext;
  build: BuildRecord;
  canWrite: boolean;
}

/**
 * Writes the events of a live tail until the job ends, the reader goes or time is up: `state`
 * (status and actions, from one record) first and whenever they change, `lines` as they
 * come, and `end`.
 */
async function tailLog(
  web: WebServices,
  out: TextOut,
  job: JobRecord,
  from: LogCursor,
  page: LivePage,
): Promise<void> {
  let cursor = from;
  let shownState = "";
  const stop = AbortSignal.any([out.signal, web.stopping]);
  await out.write("retry: 2000\n\n");
  const pollMs = web.deps.pollIntervalMs ?? 1000;
  const deadline = Date.now() + (web.deps.liveMaxMs ?? LIVE_MAX_MS);
  let lastWrite = Date.now();
  while (!stop.aborted) {
    // The status is read before the chunks: a job that was final before this read has
    // stored its last chunk, so an empty read after it means the log is complete.
    const current = (await web.deps.store.getJob(job.id)) ?? job;
    const final = isFinal(current.status);
    const state = JSON.stringify(liveState(page, current));
    if (!final && state !== shownState) {
      await out.write(`event: state\ndata: ${state}\n\n`);
      shownState = state;
      lastWrite = Date.now();
    }
    const chunks = await web.deps.store.readLog(job.id, cursor.seq, LIVE_BATCH);
    // Read after the chunks: a section whose chunks were read is recorded by now.
    const sections = await web.deps.store.readLogSections(job.id);
    const complete = final && chunks.length < LIVE_BATCH;
    const fed = feedLog(cursor, chunks, { render: true, end: complete, bridgeGaps: final });
    cursor = fed.cursor;
    if (fed.lines.length > 0) {
      const upTo = cursor.seq;
      const ended = sections.filter((s) => s.conclusion !== undefined && s.endSeq! <= upTo);
      const data = JSON.stringify({
        html: renderLiveLines(fed.lines, sections).toString(),
        // Sections that ended: the page's script closes them with their outcome.
        ended: ended.map((s) => ({
          name: s.name,
          startSeq: s.startSeq,
          state: s.conclusion,
          endedAt: s.endedAt,
        })),
      });
      await out.write(`id: ${cursor.seq}\nevent: lines\ndata: ${data}\n\n`);
      lastWrite = Date.now();
    }
    if (complete) {
      const data = JSON.stringify({
        status: current.status,
        ...liveState(page, current),
        durationsHtml: renderDurations(current),
        // For a section the runner left open (the job errored): how it ended, and when.
        sectionOutcome: jobSectionOutcome(current) ?? "failure",
        finishedAt: current.finishedAt ?? Date.now(),
      });
      await out.write(`event: end\ndata: ${data}\n\n`);
      break;
    }
    if (chunks.length === LIVE_BATCH) continue;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastWrite > KEEP_ALIVE_MS) {
      await out.write(": still running\n\n");
      lastWrite = Date.now();
    }
    // A log that is growing is looked at again sooner: its next lines are likely stored
    // within the writer's flush interval, and a reader following it sees them that much earlier.
    const wait = chunks.length > 0 ? Math.ceil(pollMs / 4) : pollMs;
    await sleep(wait, undefined, { signal: stop }).catch(() => undefined);
  }
}

/** A `state` event's data: the job's status and the viewer's actions, rendered together. */
function liveState(page: LivePage, job: JobRecord) {
  return {
    statusHtml: renderJobStatus(job).toString(),
    actionsHtml: renderJobActions(page.ctx, page.build, job, page.canWrite).toString(),
  };
}

/**
 * GET /jobs/<id>/artifacts/<name>: one file the job kept, to whoever may read its log (a
 * private repository's only to a signed-in reader; others get the 404 of an unknown job).
 * Always a download of opaque bytes: the browser neither shows nor sniffs it.
 */
export const serveArtifact: Page<[jobId: string]> = async (web, r, jobId) => {
  const store = web.deps.artifacts;
  // The parts of the path after `/artifacts/`, decoded.
  const { pathname } = r.url;
  const parts = pathname.slice(pathname.indexOf("/artifacts/") + "/artifacts/".length).split("/");
  const name = parts.map((part) => decodeURIComponent(part)).join("/");
  if (!store || !isArtifactKey(jobId, name)) throw new NotFound();
  const { job } = await findReadableJob(web, r, jobId);
  const file = await store.get(job.id, name);
  if (!file) throw new NotFound();
  const base = name.split("/").pop()!;
  const headers = {
    "content-type": "application/octet-stream",
    "content-length": String(file.size),
    "content-disposition": `attachment; filename="${base.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(base)}`,
    "x-content-type-options": "nosniff",
  };
  if (r.c.req.method === "HEAD") {
    file.body.destroy();
    return new Response(null, { status: 200, headers });
  }
  return new Response(Readable.toWeb(file.body) as ReadableStream, { status: 200, headers });
};

/** POST /jobs/<id>/cancel (form with the CSRF token). */
export const serveCancel: Page<[jobId: string]> = async (web, r, jobId) => {
  const { job, access } = await findReadableJob(web, r, jobId);
  const form = await readForm(r.c);
  const viewer = requireWriter(web, r, form, access);
  if (!isFinal(job.status)) await web.deps.actions.cancel(job, viewer.login);
  return redirect(303, `/jobs/${encodeURIComponent(job.id)}`);
};

/** Where a streamed answer is written: each write waits for the reader (backpressure). */
interface TextOut {
  write(text: string): Promise<void>;
  /** Aborted when the reader has gone. */
  signal: AbortSignal;
}

/**
 * A response body written by `produce` as it goes. A slow reader slows the writes; a reader
 * that goes away aborts `signal`; a failure after the first byte cuts the response short
 * (the reader sees an error, never a log that looks complete).
 */
function streamText(produce: (out: TextOut) => Promise<void>): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<string, string>();
  const writer = writable.getWriter();
  const gone = new AbortController();
  writer.closed.catch(() => gone.abort());
  void produce({ write: (text) => writer.write(text), signal: gone.signal })
    .then(
      () => writer.close(),
      (error: unknown) => {
        if (!gone.signal.aborted) console.error("kozmic web: a streamed answer failed", error);
        return writer.abort(error);
      },
    )
    // The reader went away: there is nothing left to close.
    .catch(() => undefined);
  return readable.pipeThrough(new TextEncoderStream());
}
