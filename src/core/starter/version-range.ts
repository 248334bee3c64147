/**
 * Which release series of a tool a version constraint allows: PEP 440 (`>=3.9,<3.13`,
 * `~=3.10`, `==3.12.*`), npm and Composer ranges (`^18.17`, `>=20 <23`, `18.x`,
 * `^8.1 || ^7.4`, `18 - 20`) and Poetry's (`^3.9`). Only bounds are read: a series is
 * allowed when some version in it lies within them.
 */

type Version = [number, number, number];
const ANY = 1e9;

interface Interval {
  low: Version;
  lowOpen: boolean;
  high: Version;
  highOpen: boolean;
}

function parse(text: string, fill: number): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?/i.exec(text.trim());
  if (!m) return undefined;
  const part = (s: string | undefined) => (s === undefined || /[x*]/i.test(s) ? fill : Number(s));
  return [Number(m[1]), part(m[2]), part(m[3])];
}

/** How many of major.minor.patch the text gives (a wildcard ends it). */
function precision(text: string): number {
  return text
    .trim()
    .replace(/^v/, "")
    .split(".")
    .filter((p) => /^\d+$/.test(p)).length;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The versions `text` (one comparator) allows, as an interval; undefined when unread. */
function comparator(op: string, text: string): Interval | undefined {
  const low = parse(text, 0);
  const high = parse(text, ANY);
  if (!low || !high) return undefined;
  const all: Interval = { low: [0, 0, 0], lowOpen: false, high: [ANY, ANY, ANY], highOpen: false };
  const given = precision(text);
  switch (op) {
    case ">=":
      return { ...all, low };
    case ">":
      return { ...all, low: high, lowOpen: given === 3 };
    case "<":
      return { ...all, high: low, highOpen: true };
    case "<=":
      return { ...all, high };
    case "^": {
      const first = low.findIndex((n, i) => n !== 0 || i === Math.max(0, given - 1));
      const top: Version = [ANY, ANY, ANY];
      for (let i = 0; i <= first; i++) top[i] = low[i]!;
      return { ...all, low, high: top };
    }
    case "~":
      return { ...all, low, high: given >= 2 ? [low[0], low[1], ANY] : high };
    case "~=":
      return { ...all, low, high: given >= 3 ? [low[0], low[1], ANY] : [low[0], ANY, ANY] };
    case "!=":
      return all;
    default:
      return { ...all, low, high };
  }
}

function intersect(a: Interval, b: Interval): Interval {
  const lowCmp = compare(a.low, b.low);
  const highCmp = compare(a.high, b.high);
  return {
    low: lowCmp >= 0 ? a.low : b.low,
    lowOpen: lowCmp > 0 ? a.lowOpen : lowCmp < 0 ? b.lowOpen : a.lowOpen || b.lowOpen,
    high: highCmp <= 0 ? a.high : b.high,
    highOpen: highCmp < 0 ? a.highOpen : highCmp > 0 ? b.highOpen : a.highOpen || b.highOpen,
  };
}

function overlaps(a: Interval, b: Interval): boolean {
  const both = intersect(a, b);
  const c = compare(both.low, both.high);
  return c < 0 || (c === 0 && !both.lowOpen && !both.highOpen);
}

/** The alternatives a constraint allows (`||` separates them); undefined when unread. */
export function parseRange(constraint: string): Interval[] | undefined {
  const alternatives: Interval[] = [];
  const tight = constraint.replace(/(>=|<=|~=|==|!=|[<>^~=])\s+/g, "$1");
  for (const alternative of tight.split("||")) {
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(alternative);
    const parts = hyphen
      ? [`>=${hyphen[1]}`, `<=${hyphen[2]}`]
      : alternative.split(/[\s,]+/).filter((p) => p !== "" && p !== "*");
    let interval = comparator(">=", "0")!;
    for (const part of parts) {
      const m = /^(>=|<=|~=|==|!=|[<>^~=])?\s*(.+)$/.exec(part);
      const one = m ? comparator(m[1] ?? "", m[2]!) : undefined;
      if (!one) return undefined;
      interval = intersect(interval, one);
    }
    alternatives.push(interval);
  }
  return alternatives;
}

/**
 * The series (`"3.12"`, `"22"`) to use for a constraint: `preferred` when it allows it,
 * else the newest of `series` it allows, else the lowest version it names; `preferred`
 * when the constraint is absent or not understood.
 */
export function pickSeries(
  constraint: string | undefined,
  series: readonly string[],
  preferred: string,
): string {
  if (constraint === undefined) return preferred;
  const range = parseRange(constraint);
  if (!range) return preferred;
  const allows = (s: string) => {
    const interval = comparator("", s)!;
    return range.some((r) => overlaps(r, interval));
  };
  if (allows(preferred)) return preferred;
  const allowed = series.filter(allows);
  if (allowed.length > 0) return allowed[allowed.length - 1]!;
  const named = /(\d+(?:\.\d+)?)/.exec(constraint);
  return named ? named[1]! : preferred;
}
