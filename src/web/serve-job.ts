import { setTimeout as sleep } from "node:timers/promises";
import { isFinal } from "../core/job-state.js";
import { feedLog } from "./feed-log.js";
import { HttpError, readForm, redirect, startStream, writeAndDrain } from "./http-replies.js";
import { renderDurations, renderJobPage, renderJobStatus } from "./render-pages.js";
import { jobSectionOutcome, renderLiveLines } from "./render-log.js";
import {
  findReadableJob,
  intParam,
  pageContext,
  requireWriter,
  sendHtml,
  type WebRequest,
  type WebServices,
} from "./web-request.js";

const MAX_PAGE = 1_000_000;
const LIVE_BATCH = 64;
/** A live tail ends after this long; the browser reconnects where it stopped (Last-Event-ID). */
const LIVE_MAX_MS = 5 * 60_000;
const KEEP_ALIVE_MS = 15_000;

/** GET /jobs/<id>[?page=n]: the job's facts and one part of its log (the end by default). */
export async function serveJobPage(web: WebServices, r: WebRequest, jobId: string): Promise<void> {
  const page = intParam(r.url, "page", MAX_PAGE, "last" as const);
  const { job, build, access } = await findReadableJob(web, r, jobId);
  const [log, sections] = await Promise.all([
    web.reader.readPage(job.id, page, isFinal(job.status)),
    web.deps.store.readLogSections(job.id),
  ]);
  if (!log) throw new HttpError(404, `The log of this job has no part ${Number(page) + 1}.`);
  sendHtml(
    web,
    r,
    200,
    renderJobPage(pageContext(web, r), {
      build,
      job,
      canWrite: access.write,
      lines: log.lines,
      sections,
      page: log.page,
      isLastPage: log.isLast,
      nextSeq: log.next.seq,
    }),
  );
}

/** GET /jobs/<id>/log.txt: the raw log, chunk by chunk as stored. */
export async function serveRawLog(web: WebServices, r: WebRequest, jobId: string): Promise<void> {
  const { job } = await findReadableJob(web, r, jobId);
  startStream(r.res, "text/plain; charset=utf-8", web.deps.settings.githubWebUrl, {
    "content-disposition": "inline",
  });
  let seq = 0;
  while (!r.res.destroyed) {
    const chunks = await web.deps.store.readLog(job.id, seq, LIVE_BATCH);
    for (const chunk of chunks) await writeAndDrain(r.res, chunk.data);
    if (chunks.length < LIVE_BATCH) break;
    seq = chunks[chunks.length - 1]!.seq + 1;
  }
  r.res.end();
}

/**
 * GET /jobs/<id>/live?seq=n: server-sent events. `lines` events carry rendered, numbered
 * lines and the chunk seq to resume from as their id; `end` carries the final status.
 */
export async function serveLiveLog(web: WebServices, r: WebRequest, jobId: string): Promise<void> {
  const lastEventId = r.req.headers["last-event-id"];
  let seq = intParam(r.url, "seq", 100_000_000, 0);
  if (typeof lastEventId === "string" && lastEventId !== "") {
    if (!/^\d{1,9}$/.test(lastEventId))
      throw new HttpError(400, "Last-Event-ID must be a chunk number.");
    seq = Number(lastEventId);
  }
  const { job } = await findReadableJob(web, r, jobId);
  let cursor = await web.reader.cursorAt(job.id, seq, isFinal(job.status));
  if (!cursor) throw new HttpError(400, `The log of this job has no part ${seq} yet.`);

  startStream(r.res, "text/event-stream; charset=utf-8", web.deps.settings.githubWebUrl, {
    "x-accel-buffering": "no",
  });
  if (r.req.method === "HEAD") {
    r.res.end();
    return;
  }
  const ended = new AbortController();
  r.res.on("close", () => ended.abort());
  const stop = AbortSignal.any([ended.signal, web.stopping]);
  await writeAndDrain(r.res, "retry: 2000\n\n");
  const pollMs = web.deps.pollIntervalMs ?? 1000;
  const deadline = Date.now() + (web.deps.liveMaxMs ?? LIVE_MAX_MS);
  let lastWrite = Date.now();
  while (!stop.aborted) {
    // The status is read before the chunks: a job that was final before this read has
    // stored its last chunk, so an empty read after it means the log is complete.
    const current = (await web.deps.store.getJob(job.id)) ?? job;
    const final = isFinal(current.status);
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
        html: renderLiveLines(fed.lines, sections),
        // Sections that ended: the page's script closes them with their outcome.
        ended: ended.map((s) => ({
          name: s.name,
          startSeq: s.startSeq,
          state: s.conclusion,
          endedAt: s.endedAt,
        })),
      });
      await writeAndDrain(r.res, `id: ${cursor.seq}\nevent: lines\ndata: ${data}\n\n`);
      lastWrite = Date.now();
    }
    if (complete) {
      const data = JSON.stringify({
        status: current.status,
        statusHtml: renderJobStatus(current),
        durationsHtml: renderDurations(current),
        // For a section the runner left open (the job errored): how it ended, and when.
        sectionOutcome: jobSectionOutcome(current) ?? "failure",
        finishedAt: current.finishedAt ?? Date.now(),
      });
      await writeAndDrain(r.res, `event: end\ndata: ${data}\n\n`);
      break;
    }
    if (chunks.length === LIVE_BATCH) continue;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastWrite > KEEP_ALIVE_MS) {
      await writeAndDrain(r.res, ": still running\n\n");
      lastWrite = Date.now();
    }
    await sleep(pollMs, undefined, { signal: stop }).catch(() => undefined);
  }
  r.res.end();
}

/** POST /jobs/<id>/cancel (form with the CSRF token). */
export async function serveCancel(web: WebServices, r: WebRequest, jobId: string): Promise<void> {
  const { job, access } = await findReadableJob(web, r, jobId);
  const form = await readForm(r.req);
  const viewer = requireWriter(web, r, form, access);
  if (!isFinal(job.status)) await web.deps.actions.cancel(job, viewer.login);
  redirect(r.res, 303, `/jobs/${encodeURIComponent(job.id)}`);
}
