import { pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import type { LineLog } from "../../runner/worker/worker-context.js";
import type { LogSettings } from "../settings/log-settings.js";

/** The runner's logger, and the `(line) => void` sink the worker writes its lines to. */
export interface RunnerLog {
  logger: Logger;
  /** One record per line, the line as `msg`, at the line's level (info unless given). */
  line: LineLog;
}

/**
 * Pino on stderr (fd 2), written synchronously so that the last lines before an exit are
 * not lost: JSON records like the app's (`level`, `time`, `msg`, ...) for log collectors,
 * or pino-pretty's lines, as Probot prints them, with LOG_FORMAT=pretty.
 */
export function createRunnerLog(settings: LogSettings): RunnerLog {
  const stderr = pino.destination({ fd: 2, sync: true });
  const pretty = prettyFactory({ ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" });
  const destination =
    settings.format === "pretty"
      ? { write: (record: string) => stderr.write(pretty(record)) }
      : stderr;
  const logger = pino({ name: "kozmic-runner", level: settings.level }, destination);
  return { logger, line: (text, level) => logger[level ?? "info"](text) };
}
