import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderAnsiLine } from "../../src/web/render-ansi.js";
import { feedLog, MAX_LINE_CHARS, START_CURSOR, type LogLine } from "../../src/web/feed-log.js";
import { renderBadge } from "../../src/web/render-badge.js";

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

describe("renderBadge", () => {
  it("is an SVG image labelled for screen readers, with escaped text", () => {
    const svg = renderBadge("<lint>", "failing");
    assert.match(svg, /^<svg [^>]*role="img" aria-label="&#60;lint&#62;: failing">/);
    assert.match(svg, /<title>&#60;lint&#62;: failing<\/title>/);
    assert.match(svg, /fill="#cf222e"/);
  });
});
