import { posix } from "node:path";
import picomatch from "picomatch";
import type { Header } from "tar-stream";
import type { Engine } from "../engine/port.js";

/** A path as a log line shows it: control characters of a hostile name cannot act. */
export const shown = (path: string) => JSON.stringify(path).slice(1, -1);
export const megabytes = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/** A regular file of the step's `/kozmic/src` that matched: its body must be read or left. */
export interface MatchedFile {
  /** Relative to the repository. */
  path: string;
  header: Header;
  body: AsyncIterable<Buffer>;
}

/**
 * Walks the regular files of an exited step's `/kozmic/src` that match `patterns`, each once,
 * and hands them to `take` as they stream. Each pattern's directory is read from the engine
 * as a tar stream: symlinks stay entries (never followed, never taken), a path with `..` or a
 * symlinked directory on the way is refused by the engine. Reading stops after
 * `maxScannedBytes` of entries, so that a pattern over a huge tree cannot hold the runner
 * long after the job's end. Trouble is a warning line prefixed `label:`, never thrown;
 * a pattern matching nothing is one too.
 */
export async function walkStepFiles(
  engine: Engine,
  stepId: string,
  patterns: readonly string[],
  options: {
    label: string;
    say: (line: string) => void;
    maxScannedBytes: number;
    take: (file: MatchedFile) => Promise<void>;
  },
): Promise<void> {
  const { label, say, maxScannedBytes, take } = options;
  const matchers = patterns.map((pattern) => picomatch(pattern, { dot: true }));
  const matched = new Set<number>();
  const seen = new Set<string>();
  let scanned = 0;
  for (const base of new Set(patterns.map((pattern) => picomatch.scan(pattern).base))) {
    let archive: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    try {
      // The default export: the bundled CLI has no named exports of this CommonJS module.
      const { default: tarStream } = await import("tar-stream");
      archive = await engine.readStepSource(stepId, base);
      if (!archive) continue;
      const entries = tarStream.extract();
      archive.on("error", (error: Error) => entries.destroy(error));
      archive.pipe(entries);
      for await (const entry of entries) {
        scanned += entry.header.size ?? 0;
        if (scanned > maxScannedBytes) {
          say(
            `${label}: warning: stopped looking for ${label} after ${megabytes(maxScannedBytes)} ` +
              `of other files; name the ${label}' directory in the pattern`,
          );
          archive.destroy?.();
          break;
        }
        const path = repositoryPath(base, entry.header.name);
        const which = matchers.flatMap((match, i) => (path && match(path) ? [i] : []));
        if (path && entry.header.type === "file" && which.length > 0 && !seen.has(path)) {
          for (const i of which) matched.add(i);
          seen.add(path);
          await take({ path, header: entry.header, body: entry as AsyncIterable<Buffer> });
        }
        entry.resume(); // whatever was not read is skipped
      }
    } catch (error) {
      // Else the engine's connection stays open, and with it the process.
      archive?.destroy?.();
      say(`${label}: warning: reading ${shown(base || ".")} failed: ${(error as Error).message}`);
    }
  }
  patterns.forEach((pattern, i) => {
    if (!matched.has(i)) say(`${label}: warning: no file matches ${shown(pattern)}`);
  });
}

/** A tar entry's path relative to the repository; entries are named from the base's last part. */
function repositoryPath(base: string, name: string): string | undefined {
  const inside =
    base === "" ? name.split("/").slice(1).join("/") : posix.join(posix.dirname(base), name);
  const path = posix.normalize(inside).replace(/\/$/, "");
  if (path === "" || path === "." || path.startsWith("/") || path.split("/").includes(".."))
    return undefined;
  return path;
}
