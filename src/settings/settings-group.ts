import type { z } from "zod";

/** Environment variables as a process sees them. */
export type Env = Readonly<Record<string, string | undefined>>;

export type GroupResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** One group of settings: reads its variables and names every bad one. */
export interface SettingsGroup<T> {
  read(env: Env): GroupResult<T>;
}

/** Lines for a failed parse, each starting with the variable's name. */
export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "");
    return name === "" || issue.message.startsWith(name)
      ? issue.message
      : `${name} ${issue.message}`;
  });
}

/** A group that is nothing more than its zod schema. */
export function schemaGroup<T>(schema: z.ZodType<T>): SettingsGroup<T> {
  return {
    read(env) {
      const parsed = schema.safeParse(env);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, problems: problemsOf(parsed.error) };
    },
  };
}
