import type { TestCounts } from "../build-records.js";

/** "212 tests: 3 failed, 4 skipped", as the check run and the job page say it. */
export function describeTestCounts(counts: TestCounts): string {
  const head = `${counts.tests} test${counts.tests === 1 ? "" : "s"}`;
  const parts = [];
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (parts.length === 0) return counts.tests === 0 ? "no tests" : `${head}: all passed`;
  return `${head}: ${parts.join(", ")}`;
}
