import { z } from "zod";

/** Empty counts as unset: `FOO=` in an environment file means "use the default". */
const isUnset = (value: string | undefined): value is undefined =>
  value === undefined || value.trim() === "";

/** An optional whole number in [min, max]; undefined when unset. The message names the variable. */
export function wholeNumberVar(name: string, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (isUnset(value)) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a whole number from ${min} to ${max}, got "${value}"`,
        });
        return z.NEVER;
      }
      return n;
    });
}

/** An optional http(s) URL; undefined when unset. The message names the variable. */
export function httpUrlVar(name: string, example?: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (isUnset(value)) return undefined;
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be an http(s) URL${example ? ` such as ${example}` : ""}, got "${value}"`,
        });
        return z.NEVER;
      }
      return value;
    });
}
