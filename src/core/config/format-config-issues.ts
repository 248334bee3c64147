import type { ConfigIssue } from "../errors.js";

export const CONFIG_PATH = ".github/kozmic.yml";

/** One line per issue, `file:line:column: message`, as compilers print them. */
export function formatConfigIssues(issues: readonly ConfigIssue[], file = CONFIG_PATH): string {
  return issues
    .map((issue) =>
      issue.line === undefined
        ? `${file}: ${issue.message}`
        : `${file}:${issue.line}:${issue.column ?? 1}: ${issue.message}`,
    )
    .join("\n");
}

/**
 * For a terminal: each issue followed by the offending source line and a caret under
 * its column, so a person sees the spot without opening the file.
 */
export function formatConfigIssuesForTerminal(
  issues: readonly ConfigIssue[],
  source: string,
  file = CONFIG_PATH,
): string {
  const lines = source.split(/\r?\n/);
  return issues
    .map((issue) => {
      const head = formatConfigIssues([issue], file);
      const text = issue.line === undefined ? undefined : lines[issue.line - 1];
      if (text === undefined) return head;
      const gutter = `${issue.line} | `;
      const caret = " ".repeat(gutter.length + Math.max(0, (issue.column ?? 1) - 1)) + "^";
      return `${head}\n${gutter}${text}\n${caret}`;
    })
    .join("\n\n");
}
