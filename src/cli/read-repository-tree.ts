import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { wantsText, type RepositoryTree } from "../core/starter/repository-tree.js";

/** Deep enough for `packages/web/package.json` and `tests/unit/conftest.py`. */
const MAX_DEPTH = 4;
/** Paths listed at most: a huge tree is not walked to its end for a guess. */
const MAX_PATHS = 20_000;
/** Larger files are not read: the guess needs manifests and version files. */
const MAX_READ_BYTES = 256 * 1024;
/** Never walked into: dependencies, build output, version control, and Kozmic's data. */
const NOT_WALKED = new Set([
  ".git",
  "node_modules",
  "target",
  ".venv",
  "venv",
  ".tox",
  "vendor",
  "dist",
  ".kozmic",
  "__pycache__",
]);

/** The files of the working tree at `dir` as `kozmic init` reads them. */
export async function readRepositoryTree(dir: string): Promise<RepositoryTree> {
  const paths: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    const below: string[] = [];
    for (const entry of entries) {
      if (paths.length >= MAX_PATHS) return;
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isFile()) paths.push(path);
      else if (entry.isDirectory() && depth < MAX_DEPTH && !NOT_WALKED.has(entry.name))
        below.push(path);
    }
    for (const path of below) await walk(path, depth + 1);
  };
  await walk("", 1);
  const texts: Record<string, string> = {};
  for (const path of paths.filter(wantsText)) {
    const file = join(dir, path);
    if ((await stat(file)).size <= MAX_READ_BYTES) texts[path] = await readFile(file, "utf8");
  }
  return { paths, texts };
}
