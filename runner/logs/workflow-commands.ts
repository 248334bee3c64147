import type { JobAnnotation } from "../../src/core/build-records.js";
import { plainLogText } from "../../src/core/plain-log-text.js";
import type { LogSink } from "./log-sink.js";

/** Annotations a job may leave at most: its record holds them until the check run does. */
export const MAX_JOB_ANNOTATIONS = 100;
const MAX_MESSAGE_CHARS = 1000;
const MAX_TITLE_CHARS = 255;
/** A longer line is not a command (and is not held waiting for its end). */
const MAX_LINE_CHARS = 8192;

const LEVELS = { error: "failure", warning: "warning", notice: "notice" } as const;
const COMMAND = /^::(error|warning|notice)(?:\s+([^:]*))?::(.*)$/;

/** GitHub's escapes in a command's message, and in its properties also `:` and `,`. */
function unescape(text: string, property: boolean): string {
  let out = text.replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  if (property) out = out.replace(/%3A/gi, ":").replace(/%2C/gi, ",");
  return out.replace(/%25/g, "%");
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/**
 * One line of output as a workflow command, GitHub Actions' syntax: `::error file=app.py,
 * line=10,col=5,endLine=12,title=Lint::message` (also `::warning`, `::notice`); undefined for
 * any other line. A path that leaves the repository is dropped, not followed.
 */
export function parseWorkflowCommand(line: string): JobAnnotation | undefined {
  const m = COMMAND.exec(plainLogText(line).trim());
  if (!m) return undefined;
  const props: Record<string, string> = {};
  for (const pair of (m[2] ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) props[pair.slice(0, eq).trim()] = unescape(pair.slice(eq + 1).trim(), true);
  }
  const number = (key: string) => {
    const n = Number(props[key]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const file = (props.file ?? "").replace(/^\/kozmic\/src\//, "").replace(/^\.\//, "");
  const safe = file !== "" && !file.startsWith("/") && !file.split("/").includes("..");
  const startLine = safe ? (number("line") ?? 1) : 1;
  const annotation: JobAnnotation = {
    level: LEVELS[m[1] as keyof typeof LEVELS],
    path: safe ? file : ".github",
    startLine,
    endLine: Math.max(startLine, (safe && number("endLine")) || startLine),
    message: clip(unescape(m[3]!, false), MAX_MESSAGE_CHARS) || m[1]!,
  };
  if (props.title) annotation.title = clip(props.title, MAX_TITLE_CHARS);
  // GitHub takes columns only on an annotation of one line.
  const col = number("col");
  if (safe && col !== undefined && annotation.endLine === startLine) {
    annotation.startColumn = col;
    annotation.endColumn = Math.max(col, number("endColumn") ?? col);
  }
  return annotation;
}

/** A sink that collects the annotations the output asks for, up to MAX_JOB_ANNOTATIONS. */
export class WorkflowCommands implements LogSink {
  readonly annotations: JobAnnotation[] = [];
  private partial = "";

  write(text: string): void {
    // Every chunk of output passes here: once full, nothing more is looked at.
    if (this.annotations.length >= MAX_JOB_ANNOTATIONS) return;
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop()!;
    if (this.partial.length > MAX_LINE_CHARS) this.partial = "";
    for (const line of lines) this.take(line);
  }

  async flush(): Promise<void> {}

  /** The output has ended: a last line without a newline counts too. */
  end(): JobAnnotation[] {
    if (this.partial) this.take(this.partial);
    this.partial = "";
    return this.annotations;
  }

  private take(line: string): void {
    if (this.annotations.length >= MAX_JOB_ANNOTATIONS || !line.includes("::")) return;
    const annotation = parseWorkflowCommand(line.slice(0, MAX_LINE_CHARS));
    if (annotation) this.annotations.push(annotation);
  }
}

/**
 * The workflow commands' annotations and the failed tests' under one cap: when both have
 * more than half of it each keeps half, and one with fewer leaves its room to the other.
 */
export function mergeAnnotations(
  commands: readonly JobAnnotation[],
  tests: readonly JobAnnotation[],
  max = MAX_JOB_ANNOTATIONS,
): JobAnnotation[] {
  const half = Math.floor(max / 2);
  const fromCommands = Math.min(commands.length, Math.max(half, max - tests.length));
  return [...commands.slice(0, fromCommands), ...tests.slice(0, max - fromCommands)];
}
