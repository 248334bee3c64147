import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** More entries than this (a data directory shared by many projects and edits): start over. */
const MAX_ENTRIES = 200;

/**
 * What a `kozmic run` validated, kept for the next run of the same build: the settings (by
 * the variables and machine facts they were read from) and `.github/kozmic.yml` (by its
 * text). A run whose inputs are unchanged then loads neither zod, the schemas nor the YAML
 * parser, about a tenth of its wall time. Only valid results are kept, so a broken file or
 * variable is parsed, and reported, every time. Kept in `<dataDir>/parsed/`, one JSON file
 * per entry named by a hash of the build and the input; written whole by a rename, so
 * concurrent runs read either nothing or a complete entry. Never fails a run: an entry that
 * cannot be read or written is parsed again.
 */
export class ParsedCache {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly buildId: string,
  ) {
    this.dir = join(dataDir, "parsed");
  }

  get<T>(kind: string, input: string): T | undefined {
    try {
      const entry = JSON.parse(readFileSync(this.pathOf(kind, input), "utf8")) as unknown;
      // Anything but what put wrote (a damaged or foreign file) is no entry.
      return typeof entry === "object" && entry !== null && Object.hasOwn(entry, "validated")
        ? (entry as { validated: T }).validated
        : undefined;
    } catch {
      return undefined;
    }
  }

  put(kind: string, input: string, value: unknown): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      if (readdirSync(this.dir).length >= MAX_ENTRIES) {
        rmSync(this.dir, { recursive: true, force: true });
        mkdirSync(this.dir, { mode: 0o700 });
      }
      const path = this.pathOf(kind, input);
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify({ validated: value }), { mode: 0o600 });
      renameSync(temporary, path);
    } catch {
      // A cache: the next run parses again.
    }
  }

  private pathOf(kind: string, input: string): string {
    const key = createHash("sha256").update(`${this.buildId}\0${kind}\0${input}`).digest("hex");
    return join(this.dir, `${key}.json`);
  }
}
