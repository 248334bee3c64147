import * as z from "zod";
import { parseBytes, parseDurationSeconds } from "../core/duration.js";

/**
 * Builders of one environment variable's schema, undefined when unset (readSettings drops
 * empty values first: `FOO=` in an environment file means "use the default"). Every message
 * starts with the variable's name and quotes the value it got, so secrets are checked
 * elsewhere.
 */

/** A variable `parse` accepts, or an issue with `problem`'s words for the value it got. */
export function parsedVar<T>(
  parse: (value: string) => T | undefined,
  problem: (value: string) => string,
) {
  return z
    .string()
    .optional()
    .transform((value, ctx): T | undefined => {
      if (value === undefined) return undefined;
      const parsed = parse(value);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: problem(value) });
        return z.NEVER;
      }
      return parsed;
    });
}

/** A variable `parse` accepts, or an issue saying what it must be and what it got. */
function checked<T>(name: string, expected: string, parse: (value: string) => T | undefined) {
  return parsedVar(parse, (value) => `${name} must be ${expected}, got "${value}"`);
}

/** A whole number in [min, max]. */
export function wholeNumberVar(name: string, min: number, max: number) {
  return checked(name, `a whole number from ${min} to ${max}`, (value) => {
    const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

/** A number above 0 and at most max, fractions allowed (CPUs). */
export function positiveNumberVar(name: string, max: number) {
  return checked(name, `a number above 0 and at most ${max}, such as 2 or 1.5`, (value) => {
    const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
    return n > 0 && n <= max ? n : undefined;
  });
}

/** An http(s) URL. */
export function httpUrlVar(name: string, example?: string) {
  return checked(name, `an http(s) URL${example ? ` such as ${example}` : ""}`, (value) => {
    const text = value.trim();
    return URL.canParse(text) && /^https?:$/.test(new URL(text).protocol) ? text : undefined;
  });
}

/** One of a few words. */
export function oneOfVar<const T extends string>(name: string, values: readonly T[]) {
  const listed = values.map((v) => `"${v}"`);
  const expected =
    listed.length === 1 ? listed[0]! : `${listed.slice(0, -1).join(", ")} or ${listed.at(-1)}`;
  return checked(name, expected, (value) => values.find((v) => v === value.trim()));
}

/** On or off: true, false, 1 or 0. */
export function flagVar(name: string) {
  return checked(name, '"true" or "false" (or 1 or 0)', (value) => {
    const text = value.trim();
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
    return undefined;
  });
}

/** A size: `512m`, `2g`, or a number of bytes. */
export function sizeVar(name: string) {
  return checked(name, 'a size such as "512m" or "2g", or a number of bytes', (value) =>
    parseBytes(value),
  );
}

/** A duration in seconds: `90s`, `2m`, `1h30m`, a number of seconds, or 0. */
export function durationVar(name: string) {
  return checked(name, 'a duration such as "60s", "2m" or "1h30m"', (value) =>
    value.trim() === "0" ? 0 : parseDurationSeconds(value),
  );
}

/** Text matching `pattern`; `expected` says what that is for the message. */
export function patternVar(name: string, pattern: RegExp, expected: string) {
  return checked(name, expected, (value) => (pattern.test(value) ? value : undefined));
}
