import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { LogSectionRecord } from "../../src/store/port.js";
import { feedLog, START_CURSOR } from "../../src/web/feed-log.js";
import { groupLogSections, outlineRanges } from "../../src/web/log-sections.js";

const T = Date.parse("2026-11-30T11:05:20.123Z");
const JOB = "job-1";

describe("groupLogSections: sections come from the runner's records, never from the log's text", () => {
  // Chunks as the runner cuts them at each section's start and end.
  const chunks = [
    "==> job 1\n",
    "==> pulled\n",
    "installing\n##[end install success 2026-11-30T11:05:20.123Z]\n",
    "##[section build 2026-11-30T11:05:20.123Z] all passed\n==> Build\nFAILED\n",
    "==> failure in 9.0s\n",
  ].map((data, seq) => ({ seq, data, at: T }));
  const records: LogSectionRecord[] = [
    {
      jobId: JOB,
      name: "preparing",
      title: "Preparing: busybox",
      startSeq: 1,
      startedAt: T,
      endSeq: 2,
      endedAt: T + 1000,
      conclusion: "success",
    },
    {
      jobId: JOB,
      name: "install",
      title: "Install: cache miss",
      startSeq: 2,
      startedAt: T + 1000,
      endSeq: 3,
      endedAt: T + 4000,
      conclusion: "success",
    },
    { jobId: JOB, name: "build", title: "Build", startSeq: 3, startedAt: T + 4000 },
  ];
  const { lines } = feedLog(START_CURSOR, chunks, { render: true, end: true, bridgeGaps: true });
  const describeBlocks = (blocks: ReturnType<typeof groupLogSections>) =>
    blocks.map((b) =>
      b.kind === "lines"
        ? `lines ${b.lines.map((l) => l.n).join(",")}`
        : `${b.id} ${b.state} ${(b.endedAt ?? NaN) - b.startedAt} ${b.lines.map((l) => l.n).join(",")}`,
    );

  it("folds each record's chunks under it; marker text printed by the job is a plain line", () => {
    const blocks = groupLogSections(lines, records, {
      final: true,
      jobOutcome: "failure",
      finishedAt: T + 9000,
    });
    assert.deepEqual(describeBlocks(blocks), [
      "lines 1",
      "preparing success 1000 2",
      "install success 3000 3,4",
      // Never ended (its runner died): it ended with the job.
      "build failure 5000 5,6,7,8",
    ]);
    const ended = [
      ...records.slice(0, 2),
      { ...records[2]!, endSeq: 4, endedAt: T + 6000, conclusion: "failure" as const },
    ];
    assert.deepEqual(describeBlocks(groupLogSections(lines, ended, { final: true })).slice(-2), [
      "build failure 2000 5,6,7",
      "lines 8",
    ]);
    const install = blocks[2]!;
    assert.equal(install.kind === "section" && install.lines[1]!.html.startsWith("##[end"), true);
  });

  it("without records there are no sections, whatever the log says", () => {
    assert.deepEqual(describeBlocks(groupLogSections(lines, [], { final: true })), [
      "lines 1,2,3,4,5,6,7,8",
    ]);
  });

  it("keeps a section running while the job runs, and plain when it began before the lines (a live tail's)", () => {
    const running = groupLogSections(lines, records, { final: false }).at(-1);
    assert.equal(running?.kind === "section" && running.state, "running");
    const later = feedLog(START_CURSOR, chunks.slice(4), {
      render: true,
      end: true,
      bridgeGaps: false,
    });
    const fromPart = feedLog({ ...START_CURSOR, seq: 4 }, chunks.slice(4), {
      render: true,
      end: true,
      bridgeGaps: false,
    });
    assert.equal(later.lines.length, 0, "a reader stops at the first chunk it lacks");
    assert.deepEqual(describeBlocks(groupLogSections(fromPart.lines, records, { final: true })), [
      "lines 1",
    ]);
  });
});

describe("outlineRanges: the whole log as the runner's sections and the lines between them", () => {
  const T = 1_000;
  const record = (r: Omit<LogSectionRecord, "jobId" | "title" | "startedAt">) =>
    ({ jobId: JOB, title: r.name, startedAt: T, ...r }) as LogSectionRecord;
  // Chunk seq -> lines complete before it: chunk 0 holds lines 1-2, chunk 1 line 3, chunk 2 4-9.
  const starts = [0, 2, 3, 9];
  const outline = (lines: number, endSeq: number) => ({
    lines,
    endSeq,
    lineAt: (seq: number) => (seq < endSeq ? starts[seq] : seq === endSeq ? lines : undefined),
  });
  const show = (ranges: ReturnType<typeof outlineRanges>) =>
    ranges.map(
      (r) => `${r.section ? `${r.section.id} ${r.section.state}` : "lines"} ${r.first}-${r.last}`,
    );

  it("cuts every section at its chunks' lines, with the lines around them plain", () => {
    const sections = [
      record({ name: "preparing", startSeq: 1, endSeq: 2, endedAt: T, conclusion: "success" }),
      record({ name: "build", startSeq: 2, endSeq: 3, endedAt: T, conclusion: "failure" }),
    ];
    assert.deepEqual(show(outlineRanges(sections, outline(10, 4), { final: true })), [
      "lines 1-2",
      "preparing success 3-3",
      "build failure 4-9",
      "lines 10-10",
    ]);
  });

  it("a running section reaches the end of the log; one that began after it waits for its lines", () => {
    const sections = [
      record({ name: "preparing", startSeq: 0, endSeq: 2, endedAt: T, conclusion: "success" }),
      record({ name: "install", startSeq: 2 }),
      record({ name: "build", startSeq: 3 }),
    ];
    assert.deepEqual(show(outlineRanges(sections, outline(9, 3), { final: false })), [
      "preparing success 1-3",
      "install running 4-9",
    ]);
    // Ended with the job: the section that never started shows, empty.
    assert.deepEqual(
      show(outlineRanges(sections, outline(9, 3), { final: true, jobOutcome: "cancelled" })),
      ["preparing success 1-3", "install cancelled 4-9", "build cancelled 10-9"],
    );
  });

  it("without records the whole log is one plain range", () => {
    assert.deepEqual(show(outlineRanges([], outline(9, 3), { final: true })), ["lines 1-9"]);
    assert.deepEqual(show(outlineRanges([], outline(0, 0), { final: true })), []);
  });
});
