import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  parseSectionMarker,
  sectionEndLine,
  sectionStartLine,
} from "../../src/core/log-section-marker.js";
import { feedLog, START_CURSOR } from "../../src/web/feed-log.js";
import { groupLogSections } from "../../src/web/log-sections.js";

const T = Date.parse("2026-11-30T11:05:20.123Z");

describe("section markers", () => {
  it("are written and read back, and nothing else counts as one", () => {
    const start = sectionStartLine("install", "Install: cache miss\n(first)", T);
    assert.equal(
      start,
      "##[section install 2026-11-30T11:05:20.123Z] Install: cache miss (first)\n",
    );
    assert.deepEqual(parseSectionMarker(start.slice(0, -1)), {
      kind: "start",
      id: "install",
      at: T,
      title: "Install: cache miss (first)",
    });
    assert.deepEqual(
      parseSectionMarker(sectionEndLine("build", "timed_out", T + 5).trim() + "\r"),
      {
        kind: "end",
        id: "build",
        at: T + 5,
        status: "timed_out",
      },
    );
    for (const line of [
      "##[section deploy 2026-11-30T11:05:20.123Z] Deploy",
      "##[end build exploded 2026-11-30T11:05:20.123Z]",
      "  ##[section build 2026-11-30T11:05:20.123Z] Build",
      "##[section build yesterday] Build",
      "##[group]Run tests",
    ])
      assert.equal(parseSectionMarker(line), undefined, line);
  });
});

describe("groupLogSections", () => {
  const log = [
    "==> job 1\n",
    sectionStartLine("preparing", "Preparing: busybox", T),
    "pulled\n",
    sectionStartLine("install", "Install: cache miss", T + 1000),
    "installing\n",
    sectionEndLine("install", "success", T + 4000),
    sectionStartLine("build", "Build", T + 4000),
    "FAILED\n",
  ].join("");
  const { lines } = feedLog(START_CURSOR, [{ seq: 0, data: log, at: T }], {
    render: true,
    end: true,
    bridgeGaps: true,
  });

  it("ends a section at its end line, else where the next starts, else with the job", () => {
    const blocks = groupLogSections(lines, {
      final: true,
      isLast: true,
      jobOutcome: "failure",
      finishedAt: T + 9000,
    });
    assert.deepEqual(
      blocks.map((b) =>
        b.kind === "lines"
          ? `lines ${b.lines.map((l) => l.n).join(",")}`
          : `${b.id} ${b.state} ${(b.endedAt ?? NaN) - b.startedAt} ${b.lines.map((l) => l.n).join(",")}`,
      ),
      [
        "lines 1",
        "preparing success 1000 2,3",
        "install success 3000 4,5,6",
        "build failure 5000 7,8",
      ],
    );
    assert.ok(lines.every((l) => l.at === T));
  });

  it("keeps the last section running while the job runs, or going on in the next part", () => {
    const running = groupLogSections(lines, { final: false, isLast: true }).at(-1);
    assert.equal(running?.kind === "section" && running.state, "running");
    const continues = groupLogSections(lines, { final: true, isLast: false }).at(-1);
    assert.equal(continues?.kind === "section" && continues.state, "continues");
  });
});
