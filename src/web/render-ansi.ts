/** Colours and styles in effect at a point of a log; colours are the 16 terminal colours 0-15. */
export interface AnsiState {
  fg?: number;
  bg?: number;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

// CSI sequences (SGR and cursor movement), OSC (titles, hyperlinks), other escapes, and
// control characters other than tab: only SGR ("m") changes what is shown.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[([0-9;:?]*)([ -/]*[@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|[\x00-\x08\x0b-\x1f\x7f]/g;

const PLAIN: AnsiState = Object.freeze({});
/** States reached from no colour by one parameter list: most escapes in a log are these. */
const FROM_PLAIN = new Map<string, AnsiState>();

/**
 * The state after applying one SGR parameter list (`1;31`, `38;5;9`, empty = reset). States
 * are never changed once made, so the common ones are shared.
 */
export function applySgr(params: string, state: AnsiState): AnsiState {
  if (params === "" || params === "0") return PLAIN;
  if (Object.keys(state).length > 0) return applyCodes(params, state);
  let next = FROM_PLAIN.get(params);
  if (!next) {
    next = Object.freeze(applyCodes(params, PLAIN));
    if (FROM_PLAIN.size < 256) FROM_PLAIN.set(params, next);
  }
  return next;
}

function applyCodes(params: string, state: AnsiState): AnsiState {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((n) => (n === "" ? 0 : Number(n)));
  const s: AnsiState = { ...state };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      for (const key of Object.keys(s)) delete s[key as keyof AnsiState];
    } else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) {
      delete s.bold;
      delete s.dim;
    } else if (c === 23) delete s.italic;
    else if (c === 24) delete s.underline;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c === 39) delete s.fg;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c === 49) delete s.bg;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 38 || c === 48) {
      // 256-colour (5;n) keeps its first 16 colours; true colour (2;r;g;b) is skipped.
      const mode = codes[i + 1];
      if (mode === 5) {
        const n = codes[i + 2];
        if (n !== undefined && n < 16) {
          if (c === 38) s.fg = n;
          else s.bg = n;
        }
        i += 2;
      } else if (mode === 2) i += 4;
    }
  }
  return s;
}

function classesOf(s: AnsiState): string {
  const classes: string[] = [];
  if (s.fg !== undefined) classes.push(`fg${s.fg}`);
  if (s.bg !== undefined) classes.push(`bg${s.bg}`);
  if (s.bold) classes.push("b");
  if (s.dim) classes.push("d");
  if (s.italic) classes.push("i");
  if (s.underline) classes.push("u");
  return classes.join(" ");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderSegment(text: string, start: AnsiState): { html: string; state: AnsiState } {
  let html = "";
  let state = start;
  let last = 0;
  const emit = (piece: string) => {
    if (piece === "") return;
    const cls = classesOf(state);
    html += cls ? `<span class="${cls}">${escapeHtml(piece)}</span>` : escapeHtml(piece);
  };
  for (const m of text.matchAll(ESCAPES)) {
    emit(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === "m") state = applySgr(m[1] ?? "", state);
  }
  emit(text.slice(last));
  return { html, state };
}

/**
 * One line of a log as HTML: text escaped, SGR colours as `<span class>`, every other escape
 * sequence and control character dropped. A carriage return starts the line over, as on a
 * terminal (progress bars), so only the text after the last one is shown.
 */
export function renderAnsiLine(line: string, start: AnsiState): { html: string; state: AnsiState } {
  const segments = line.replace(/\r+$/, "").split("\r");
  let state = start;
  let html = "";
  for (const segment of segments) {
    const rendered = renderSegment(segment, state);
    state = rendered.state;
    if (segment !== "") html = rendered.html;
  }
  return { html, state };
}

/** The state after a line, without rendering it (for counting through earlier pages). */
export function advanceAnsi(line: string, start: AnsiState): AnsiState {
  if (!line.includes("\x1b[")) return start;
  // Only what follows the last reset counts (most coloured lines end with one).
  const reset = Math.max(line.lastIndexOf("\x1b[0m"), line.lastIndexOf("\x1b[m"));
  let state = start;
  let rest = line;
  if (reset >= 0) {
    state = PLAIN;
    rest = line.slice(line.indexOf("m", reset) + 1);
    if (!rest.includes("\x1b[")) return state;
  }
  for (const m of rest.matchAll(ESCAPES)) {
    if (m[2] === "m") state = applySgr(m[1] ?? "", state);
  }
  return state;
}
