// Terminal escapes (CSI, OSC, others) and control characters but tab and newline.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-9;:?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Text without terminal escapes and control characters (tab and newline stay; CR too). */
export function withoutEscapes(text: string): string {
  return text.replace(ESCAPES, "");
}

/**
 * A job's output as plain text, for places that show no terminal (GitHub's check run): no
 * colours or other escapes, CRLF as LF, and of a line redrawn with carriage returns (a
 * progress bar) only what was drawn last.
 */
export function plainLogText(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      if (!line.includes("\r")) return line;
      const drawn = line.split("\r").filter((part) => part !== "");
      return drawn[drawn.length - 1] ?? "";
    })
    .join("\n")
    .replace(ESCAPES, "");
}

/** The last `count` lines of a text (a final newline does not start a line). */
export function lastLines(text: string, count: number): string {
  const lines = text.replace(/\n$/, "").split("\n");
  return lines.slice(-count).join("\n");
}
