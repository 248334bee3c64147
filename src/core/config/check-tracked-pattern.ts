/**
 * Returns why a `tracked_files` entry is unsafe or meaningless, or undefined when it is fine.
 * Patterns are relative to the repository root and may never reach outside it.
 */
export function checkTrackedPattern(pattern: string): string | undefined {
  if (pattern.trim() === "") return "must not be empty";
  if (pattern.includes("\0")) return "must not contain a NUL character";
  if (pattern.includes("\\")) return 'must use "/" as separator, found a backslash';
  if (pattern.startsWith("~")) return 'must be relative to the repository root, not start with "~"';
  if (pattern.startsWith("/") || /^[A-Za-z]:/.test(pattern))
    return "must be relative to the repository root, not absolute";
  if (pattern.split("/").includes("..")) return 'must not contain ".." segments';
  return undefined;
}
