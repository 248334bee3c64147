/** One line of `kozmic doctor`: what was checked, and either what was found or what to do. */
export interface CheckResult {
  check: string;
  status: "ok" | "problem" | "skipped";
  detail: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: "ok", detail });
export const problem = (check: string, detail: string): CheckResult => ({
  check,
  status: "problem",
  detail,
});
export const skipped = (check: string, detail: string): CheckResult => ({
  check,
  status: "skipped",
  detail,
});

/** The line a user reads: `ok      docker: Docker 27.5.1 ...`. */
export function formatCheck(result: CheckResult): string {
  return `${result.status.padEnd(8)}${result.check}: ${result.detail}`;
}
