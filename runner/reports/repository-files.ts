import { lstatSync } from "node:fs";
import { join } from "node:path";

/**
 * Whether a path (relative, already checked to stay inside) names a regular file of the
 * checkout at `sourceDir`; answers are kept, as a report's tracebacks repeat their files.
 */
export function repositoryFiles(sourceDir: string): (path: string) => boolean {
  const known = new Map<string, boolean>();
  return (path) => {
    let answer = known.get(path);
    if (answer === undefined) {
      answer = lstatSync(join(sourceDir, path), { throwIfNoEntry: false })?.isFile() ?? false;
      known.set(path, answer);
    }
    return answer;
  };
}
