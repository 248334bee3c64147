import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderAnsiLine } from "../../src/web/render-ansi.js";
import { feedLog, MAX_LINE_CHARS, START_CURSOR, type LogLine } from "../../src/web/feed-log.js";
import { renderBadge } from "../../src/web/render-badge.js";
import { renderLogLines } from "../../src/web/render-log.js";

describe("renderAnsiLine", () => {
  it("turns SGR colours into classed spans and carries them to the next line", () => {
    const first = renderAnsiLine("\x1b[1;31mred bold", {});
    assert.equal(first.html, '<span class="fg1 b">red bold</span>');
    const second = renderAnsiLine("still red\x1b[0m plain \x1b[92mbright\x1b[39m", first.state);
    assert.equal(
      second.html,
      '<span class="fg1 b">still red</span> plain <span class="fg10">bright</span>',
    );
    assert.deepEqual(second.state, {});
  });

  it("escapes markup, including inside colours", () => {
    const { html } = renderAnsiLine(`\x1b[32m<script>alert("x")</script>&'`, {});
    assert.equal(
      html,
      '<span class="fg2">&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;</span>',
    );
  });

  it("drops cursor movement, titles and control characters, keeps tabs", () => {
    const { html } = renderAnsiLine("a\x1b[2K\x1b]0;title\x07b\tc\x07\x00d\x1b[?25l", {});
    assert.equal(html, "ab\tcd");
  });

  it("shows what a carriage return leaves on a terminal line", () => {
    assert.equal(renderAnsiLine("10%\r50%\r100%\r", {}).html, "100%");
    assert.equal(renderAnsiLine("\x1b[33m10%\r100%", {}).html, '<span class="fg3">100%</span>');
  });

  it("keeps the 16 colours of 256-colour codes and skips true colour", () => {
    assert.equal(renderAnsiLine("\x1b[38;5;4mx", {}).html, '<span class="fg4">x</span>');
    assert.equal(renderAnsiLine("\x1b[38;5;200mx", {}).html, "x");
    assert.equal(renderAnsiLine("\x1b[38;2;1;2;3;1mx", {}).html, '<span class="b">x</span>');
  });
});

const texts = (lines: LogLine[]) => lines.map((l) => `${l.n}:${l.html}`);
const chunk = (seq: number, data: string) => ({ seq, data });

describe("feedLog", () => {
  it("numbers lines across chunks that split lines anywhere", () => {
    const { lines, cursor } = feedLog(
      START_CURSOR,
      [chunk(0, "one\ntw"), chunk(1, "o\nthr"), chunk(2, "ee")],
      { render: true, end: false, bridgeGaps: false },
    );
    assert.deepEqual(texts(lines), ["1:one", "2:two"]);
    assert.deepEqual(cursor, { seq: 3, line: 2, carry: "three", ansi: {} });
    const end = feedLog(cursor, [], { render: true, end: true, bridgeGaps: true });
    assert.deepEqual(texts(end.lines), ["3:three"]);
  });

  it("gives the same lines whether fed at once or chunk by chunk from any cursor", () => {
    const data = [
      "\x1b[31ma\nb",
      "b\n\nc",
      "\x1b[0m",
      "c\nd\n",
      "x".repeat(MAX_LINE_CHARS * 2 + 5),
    ];
    const chunks = data.map((d, i) => chunk(i, d));
    const all = feedLog(START_CURSOR, chunks, { render: true, end: true, bridgeGaps: true });
    for (let split = 0; split <= chunks.length; split++) {
      const counted = feedLog(START_CURSOR, chunks.slice(0, split), {
        render: false,
        end: false,
        bridgeGaps: false,
      });
      assert.deepEqual(counted.lines, []);
      const rest = feedLog(counted.cursor, chunks.slice(split), {
        render: true,
        end: true,
        bridgeGaps: true,
      });
      const before = feedLog(START_CURSOR, chunks.slice(0, split), {
        render: true,
        end: false,
        bridgeGaps: false,
      });
      assert.deepEqual([...before.lines, ...rest.lines], all.lines, `split at ${split}`);
    }
    assert.deepEqual(
      all.lines.slice(0, 4).map((l) => l.html),
      [
        '<span class="fg1">a</span>',
        '<span class="fg1">bb</span>',
        "",
        '<span class="fg1">c</span>c',
      ],
    );
    assert.equal(all.lines.length, 5 + 3);
    assert.equal(all.lines[7]!.html, "xxxxx");
  });

  it("waits at a missing chunk while the job runs, and shows the gap once it has ended", () => {
    const chunks = [chunk(0, "a\n"), chunk(2, "c\n")];
    const running = feedLog(START_CURSOR, chunks, { render: true, end: false, bridgeGaps: false });
    assert.deepEqual(texts(running.lines), ["1:a"]);
    assert.equal(running.cursor.seq, 1);
    const ended = feedLog(START_CURSOR, chunks, { render: true, end: true, bridgeGaps: true });
    assert.equal(ended.lines.length, 3);
    assert.match(ended.lines[1]!.html, /1 chunk of this log \(from chunk 1\) could not be stored/);
    assert.equal(ended.lines[2]!.html, "c");
  });
});

describe("user groups", () => {
  const record = (name: "install" | "build", startSeq: number, endSeq?: number) =>
    ({
      jobId: "j",
      name,
      title: name,
      startSeq,
      startedAt: 0,
      ...(endSeq ? { endSeq } : {}),
    }) as const;
  const sections = [record("install", 0, 2), record("build", 2)];
  const chunks = [
    chunk(0, "::group::Fetch \x1b[1m<deps>\x1b[0m\nleft-pad\n::endgroup::\nafter\n"),
    // A group the install never closes ends with its section: build's lines are not in it.
    chunk(1, "--- Compile\ncc a.c\n"),
    chunk(2, "build starts\n+++ Tests\nerror: test_login failed\n"),
  ];
  const { lines } = feedLog(START_CURSOR, chunks, { render: true, end: true, bridgeGaps: true });
  const html = renderLogLines(lines, sections).toString();
  const outline = (markup: string) =>
    [
      ...markup.matchAll(
        /<details class="group" data-group="(\d+)" data-section="(\w+)"( open)?>|<summary[^>]*>.*?<\/summary>|<div class="line( \w+)?" id="L(\d+)"|<\/details>/g,
      ),
    ].map((m) =>
      m[1]
        ? `group ${m[1]} in ${m[2]}${m[3] ? " open" : ""}`
        : m[5]
          ? `L${m[5]}${m[4] ?? ""}`
          : m[0].startsWith("<summary")
            ? m[0].replace(/<[^>]+>/g, "|")
            : "end",
    );

  it("folds each group under its marker's line, in its own section only; markers are not shown", () => {
    assert.deepEqual(outline(html), [
      "group 1 in install",
      "||1||Fetch &#60;deps&#62;||",
      "L2",
      "L3 mark",
      "end",
      "L4",
      "group 5 in install",
      "||5||Compile||",
      "L6",
      "end",
      "L7",
      "group 8 in build open",
      "||8||Tests||",
      "L9 err",
      "end",
    ]);
    assert.match(html, /<div class="line mark" id="L3" data-section="install" hidden>/);
    // Numbers stay those of the whole log: a marker keeps its number.
    assert.deepEqual(
      lines.map((l) => l.n),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it("a window or live event starting inside a group shows it continued", () => {
    const from7 = feedLog(START_CURSOR, chunks, {
      render: true,
      renderFrom: 6,
      end: true,
      bridgeGaps: true,
    });
    assert.deepEqual(outline(renderLogLines(from7.lines, sections).toString()), [
      "group 5 in install",
      "||Compile| |(continued)||",
      "L6",
      "end",
      "L7",
      "group 8 in build open",
      "||8||Tests||",
      "L9 err",
      "end",
    ]);
  });
});

describe("renderBadge", () => {
  it("is an SVG image labelled for screen readers, with escaped text", () => {
    const svg = renderBadge("<lint>", "failing");
    assert.match(svg, /^<svg [^>]*role="img" aria-label="&#60;lint&#62;: failing">/);
    assert.match(svg, /<title>&#60;lint&#62;: failing<\/title>/);
    assert.match(svg, /fill="#cf222e"/);
  });
});
