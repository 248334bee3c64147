import * as z from "zod";
import { oneOfVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL and LOG_FORMAT as Probot reads them; the app's server and the runner share them. */
export const LOG_VARIABLES = {
  LOG_LEVEL: oneOfVar("LOG_LEVEL", LOG_LEVELS).transform((level) => level ?? "info"),
  LOG_FORMAT: oneOfVar("LOG_FORMAT", ["json", "pretty"]),
};

/** How a process other than the app's server (the runner) logs. */
export interface LogSettings {
  /** LOG_LEVEL: info unless set. */
  level: LogLevel;
  /** LOG_FORMAT: JSON lines for log collectors unless `pretty` (for people at a terminal). */
  format: "json" | "pretty";
}

const schema = z
  .object(LOG_VARIABLES)
  .transform((e): LogSettings => ({ level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? "json" }));

export const logGroup: SettingsGroup<LogSettings> = schemaGroup(schema);
