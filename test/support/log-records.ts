/** One line of a pino logger's JSON output. */
export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log records in a process's output, in order; lines that are not JSON are skipped. */
export function logRecords(output: string): LogRecord[] {
  return output.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line) as LogRecord];
    } catch {
      return [];
    }
  });
}
