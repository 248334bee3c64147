import { isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { formatConfigIssues } from "./format-config-issues.js";
import { configSchema, hookSchema, MAX_HOOKS, type Config } from "./schema.js";

type Path = (string | number)[];

/** Far more than any real configuration; keeps a hostile file from costing the app much. */
export const MAX_CONFIG_CHARS = 256 * 1024;

const TYPE_NAMES: Record<string, string> = {
  array: "a list",
  object: "a mapping",
  string: "a string",
  number: "a number",
  boolean: "true or false",
};

const TOP_KEYS = Object.keys(configSchema.shape);
const HOOK_KEYS = Object.keys(hookSchema.shape);

/**
 * Parses and validates the text of `.github/kozmic.yml`. Pure: no I/O.
 * Throws a ConfigError listing every problem found, each with its line and column.
 */
export function parseConfig(text: string): Config {
  if (text.length > MAX_CONFIG_CHARS) {
    fail([
      {
        message: `the file is ${text.length} characters long; at most ${MAX_CONFIG_CHARS} are read`,
        path: [],
      },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const syntax: ConfigIssue[] = doc.errors.map((error) => {
    const opened =
      error.code === "MISSING_CHAR" ? unclosedQuoteStart(doc, error.pos[0]) : undefined;
    if (opened !== undefined) {
      return {
        message: `YAML syntax error: the quote opened here is never closed (${error.message})`,
        path: [],
        ...at(opened),
      };
    }
    return {
      message:
        error.code === "DUPLICATE_KEY"
          ? `duplicate key ${duplicateKeyText(text, error.pos[0])}: each key may appear once per mapping`
          : error.code === "MULTIPLE_DOCS"
            ? 'a second YAML document starts here ("---"); the file must hold one document'
            : `YAML syntax error: ${error.message}`,
      path: [],
      ...at(error.pos[0]),
    };
  });
  if (syntax.some((issue) => !issue.message.startsWith("duplicate key"))) fail(syntax);
  // A problem that stops the reading, told with the duplicate keys found before it.
  function stop(message: string, where = { line: 1, column: 1 }): never {
    return fail([...syntax, { message, path: [], ...where }]);
  }

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    stop('the file is empty; expected a mapping with a "hooks" list');
  }
  if (!isMap(doc.contents)) {
    stop(
      `expected a mapping with a "hooks" list at the top level, found ${isScalar(doc.contents) ? describeValue(doc.contents.value) : "a list"}`,
      at(doc.contents.range[0]),
    );
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    stop(
      `YAML could not be expanded: ${error instanceof Error ? error.message : String(error)} (too many aliases?)`,
    );
  }
  const result = configSchema.safeParse(raw);
  const issues = [...syntax, ...findDuplicateNames(raw, doc, at)];
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...toConfigIssues(issue, raw, doc, at));
  }
  if (issues.length > 0) fail(dedupe(issues));
  return result.data!;
}

function fail(issues: ConfigIssue[]): never {
  const sorted = [...issues].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  throw new ConfigError(
    `invalid configuration (${sorted.length} ${sorted.length === 1 ? "problem" : "problems"}):\n` +
      formatConfigIssues(sorted),
    sorted,
  );
}

type At = (offset: number) => { line: number; column: number };

function toConfigIssues(
  issue: z.core.$ZodIssue,
  raw: unknown,
  doc: Document.Parsed,
  at: At,
): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const value = valueAt(raw, path);
  if (issue.code === "unrecognized_keys") {
    const known =
      path.length === 0 ? TOP_KEYS : path[0] === "hooks" && path.length === 2 ? HOOK_KEYS : [];
    return issue.keys.map((key) => {
      const hint = closest(key, known);
      return {
        message:
          label(raw, path, `unknown key ${JSON.stringify(key)}`) +
          (hint ? ` — did you mean "${hint}"?` : ""),
        path: [...path, key],
        ...position(doc, path, at, key),
      };
    });
  }
  let message: string;
  if (issue.code === "invalid_type" && value === undefined) {
    message = `missing required key "${String(path[path.length - 1])}"`;
    return [{ message: label(raw, path.slice(0, -1), message), path, ...position(doc, path, at) }];
  }
  // Our own messages start in lower case; zod's defaults are rewritten below.
  const own = /^[a-z]/.test(issue.message);
  if (own) message = issue.message;
  else
    switch (issue.code) {
      case "invalid_type":
        message = `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, found ${describeValue(value)}`;
        break;
      case "invalid_value":
        message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, found ${describeValue(value)}`;
        break;
      case "too_small":
        message =
          issue.origin === "array"
            ? path.length === 1 && path[0] === "hooks"
              ? "expected at least one hook"
              : `expected at least ${String(issue.minimum)} item(s)`
            : issue.origin === "string"
              ? "must not be empty"
              : `expected ${issue.inclusive ? "at least" : "more than"} ${String(issue.minimum)}, found ${describeValue(value)}`;
        break;
      case "too_big":
        if (issue.origin === "array" && path.length === 1 && path[0] === "hooks") {
          message =
            `a configuration may declare at most ${MAX_HOOKS} hooks; this one declares ` +
            `${(value as unknown[]).length} (merge hooks that use the same ` +
            "image into one hook whose build script runs each of their steps)";
          break;
        }
        message = `expected ${issue.inclusive ? "at most" : "less than"} ${String(issue.maximum)}${issue.origin === "string" ? " characters" : ""}, found ${describeValue(value)}`;
        break;
      case "invalid_key": {
        const key = String(path[path.length - 1]);
        const reason = issue.issues[0]?.message ?? issue.message;
        message = `invalid key ${JSON.stringify(key)}: ${reason}`;
        return [
          {
            message: label(raw, path.slice(0, -1), message),
            path,
            ...position(doc, path.slice(0, -1), at, key),
          },
        ];
      }
      default:
        message = issue.message.includes("found")
          ? issue.message
          : `${issue.message}, found ${describeValue(value)}`;
    }
  if (own && !message.includes("found")) message += `, found ${describeValue(value)}`;
  const named = label(raw, path, message);
  return [{ message: named, path, ...position(doc, path, at) }];
}

/** `hook "test": timeout: ...` when the hook has a usable name, else `hooks[2].timeout: ...`. */
function label(raw: unknown, path: Path, message: string): string {
  if (path[0] !== "hooks" || typeof path[1] !== "number") return prefix(path, message);
  const name = valueAt(raw, ["hooks", path[1], "name"]);
  const hook =
    typeof name === "string" && name !== "" ? `hook ${JSON.stringify(name)}` : `hooks[${path[1]}]`;
  return `${hook}: ${prefix(path.slice(2), message)}`;
}

function prefix(path: Path, message: string): string {
  if (path.length === 0) return message;
  const text = path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join("");
  return `${text}: ${message}`;
}

function findDuplicateNames(raw: unknown, doc: Document.Parsed, at: At): ConfigIssue[] {
  const hooks = valueAt(raw, ["hooks"]);
  if (!Array.isArray(hooks)) return [];
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  hooks.forEach((hook: unknown, index) => {
    const name = valueAt(hook, ["name"]);
    if (typeof name !== "string") return;
    const first = seen.get(name);
    if (first === undefined) return void seen.set(name, index);
    const path = ["hooks", index, "name"];
    const firstAt = position(doc, ["hooks", first, "name"], at);
    issues.push({
      message: `duplicate hook name ${JSON.stringify(name)} (first used by hooks[${first}] on line ${firstAt.line ?? "?"}); hook names must be unique`,
      path,
      ...position(doc, path, at),
    });
  });
  return issues;
}

/** Each issue once: the same message at the same path is told once. */
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const same = (a: ConfigIssue, b: ConfigIssue) =>
    a.message === b.message && a.path.join(".") === b.path.join(".");
  return issues.filter((issue, i) => issues.findIndex((o) => same(o, issue)) === i);
}

/** Position of the node at `path` (or of `key`'s key in it); falls back to the nearest ancestor. */
function position(
  doc: Document.Parsed,
  path: Path,
  at: At,
  key?: string,
): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as
      Node | undefined;
    if (!node || !node.range) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return at(pair.key.range[0]);
    }
    return at(node.range[0]);
  }
  return {};
}

function valueAt(raw: unknown, path: Path): unknown {
  let current = raw;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `${typeof value} ${String(value)}`;
}

function duplicateKeyText(text: string, offset: number): string {
  const match = /^("[^"\n]*"|'[^'\n]*'|[^:\n]+?)\s*:/.exec(text.slice(offset));
  const key = match?.[1]?.replace(/^["']|["']$/g, "");
  return key ? `"${key}"` : "";
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * Where the quoted scalar that runs into `end` starts: YAML reports a missing closing quote
 * at the end of the file, while the person needs the line where the quote opened.
 */
function unclosedQuoteStart(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_, node) {
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      if (quoted && node.range && node.range[1] >= end - 1) start = node.range[0];
    },
  });
  return start;
}
