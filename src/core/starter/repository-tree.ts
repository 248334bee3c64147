/**
 * What `kozmic init` (from a working tree) and the home page (from GitHub) know of a
 * repository: the paths of its files, to a few levels down, and the text of the few files
 * whose content the starter reads. Paths are relative and `/`-separated.
 */
export interface RepositoryTree {
  paths: readonly string[];
  texts: Readonly<Record<string, string>>;
}

/** How deep projects are looked for: the root, `app/`, `packages/web/`. */
export const MAX_PROJECT_DEPTH = 2;

/** Directories never looked into: dependencies, build output, test data, examples. */
const SKIPPED = new Set([
  ".git",
  "node_modules",
  "vendor",
  "target",
  "dist",
  "build",
  "out",
  ".venv",
  "venv",
  ".tox",
  "testdata",
  "fixtures",
  "__fixtures__",
  "examples",
  "example",
  "docs",
  "third_party",
  "tests",
  "test",
  "spec",
  "benchmarks",
]);

/** Whether a directory of this name is skipped when looking for projects. */
export function isSkippedDirectory(name: string): boolean {
  return SKIPPED.has(name) || (name.startsWith(".") && name !== ".");
}

/** Files whose text decides an image, an install or a build. */
const READ = new Set([
  "package.json",
  "pnpm-workspace.yaml",
  ".nvmrc",
  ".node-version",
  "pyproject.toml",
  "setup.cfg",
  "setup.py",
  "Pipfile",
  ".python-version",
  "go.mod",
  "go.work",
  "Cargo.toml",
  "rust-toolchain",
  "rust-toolchain.toml",
  "Gemfile",
  ".ruby-version",
  ".tool-versions",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "composer.json",
  "Makefile",
  "makefile",
  "GNUmakefile",
  "tox.ini",
  "pytest.ini",
]);

/** Whether the starter wants the text of the file at `path` (and it is within the depth). */
export function wantsText(path: string): boolean {
  const parts = path.split("/");
  const name = parts[parts.length - 1]!;
  return (
    parts.length <= MAX_PROJECT_DEPTH + 1 &&
    (READ.has(name) ||
      /requirements[^/]*\.txt$|(^|\/)requirements\/[^/]+\.txt$/.test(path) ||
      name.endsWith(".gemspec"))
  );
}

/** The directory of a path: "" for the root. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/** `name` in directory `dir` ("" for the root). */
export function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}
