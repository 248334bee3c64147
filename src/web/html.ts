import { escapeHtml } from "./render-ansi.js";

/** Markup made by `markup` (or marked by `raw`): put into another template as it is. */
export class Html {
  constructor(private readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/**
 * A template for HTML (markup`<p>${text}</p>`) that escapes what is put into it: a value is text unless it is Html
 * itself; an array puts in each of its items; undefined and null put in nothing.
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, text, i) => out + markupOf(values[i - 1]) + text));
}

/** Markup made elsewhere and escaped there (the log's ANSI renderer). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** Items one after another with `separator` (text) between them. */
export function join(items: readonly unknown[], separator: string): Html {
  return new Html(items.map(markupOf).join(escapeHtml(separator)));
}

/** A path for an address: each part encoded, the slashes kept (`owner/repo`, a file's name). */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function markupOf(value: unknown): string {
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(markupOf).join("");
  if (value === undefined || value === null) return "";
  return escapeHtml(String(value));
}
