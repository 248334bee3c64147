import {
  dirOf,
  isSkippedDirectory,
  join,
  MAX_PROJECT_DEPTH,
  type RepositoryTree,
} from "./repository-tree.js";
import { table, tomlOf } from "./starter-hook.js";

export type Ecosystem =
  "python" | "node" | "go" | "rust" | "ruby" | "maven" | "gradle" | "php" | "make" | "generic";

/** A project found in a repository: where, of which kind, and the files that said so. */
export interface Project {
  /** "" for the repository's root, else e.g. "web" or "services/api". */
  dir: string;
  ecosystem: Ecosystem;
  evidence: string[];
}

/** What a hook writer reads of a project's directory; names are relative to it. */
export interface ProjectFiles {
  dir: string;
  /** Whether the directory has this file (a relative path, e.g. "tests/conftest.py"). */
  has(path: string): boolean;
  /** The file's text, when it was read. */
  text(path: string): string | undefined;
  /** The file's text here, else at the repository's root (version files often live there). */
  textHereOrRoot(name: string): string | undefined;
  /** Every file below the directory, relative to it. */
  paths: readonly string[];
}

export function projectFiles(tree: RepositoryTree, dir: string): ProjectFiles {
  const prefix = dir === "" ? "" : `${dir}/`;
  const paths = tree.paths.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  const set = new Set(paths);
  return {
    dir,
    paths,
    has: (path) => set.has(path),
    text: (path) => tree.texts[join(dir, path)],
    textHereOrRoot: (name) => tree.texts[join(dir, name)] ?? tree.texts[name],
  };
}

const REQUIREMENTS = /^(?:[\w.-]*[-_.])?requirements(?:[-_.][\w.-]+)?\.txt$/;

/** The ecosystems whose manifests are in a directory, with those manifests. */
function manifestsIn(files: ProjectFiles): Project[] {
  const here = files.paths.filter((p) => !p.includes("/"));
  const has = (name: string) => here.includes(name);
  const some = (...names: string[]) => names.filter(has);
  const found: Project[] = [];
  const add = (ecosystem: Ecosystem, evidence: string[]) => {
    if (evidence.length > 0) found.push({ dir: files.dir, ecosystem, evidence });
  };
  const python = [
    ...some("pyproject.toml", "setup.py", "Pipfile"),
    ...here.filter((n) => REQUIREMENTS.test(n)).sort(),
  ];
  add(
    "python",
    python.length > 0 ? [...python, ...some("uv.lock", "poetry.lock", "Pipfile.lock")] : [],
  );
  const node = some("package.json");
  add(
    "node",
    node.length > 0 ? [...node, ...some("package-lock.json", "pnpm-lock.yaml", "yarn.lock")] : [],
  );
  add("go", some("go.work").length > 0 ? ["go.work"] : some("go.mod"));
  add("rust", some("Cargo.toml"));
  add("ruby", some("Gemfile"));
  add("maven", some("pom.xml"));
  add("gradle", some("settings.gradle.kts", "settings.gradle", "build.gradle.kts", "build.gradle"));
  add("php", some("composer.json"));
  return found;
}

/** Whether a project's manifest makes it the parent of the same ecosystem's projects below. */
function coversBelow(project: Project, files: ProjectFiles): boolean {
  switch (project.ecosystem) {
    case "node":
      return (
        files.has("pnpm-workspace.yaml") ||
        /"workspaces"\s*:/.test(files.text("package.json") ?? "")
      );
    case "rust":
      return "workspace" in tomlOf(files.text("Cargo.toml"));
    case "go":
      return project.evidence.includes("go.work");
    case "maven":
      return /<modules>/.test(files.text("pom.xml") ?? "");
    case "gradle":
      return true;
    case "python": {
      const tool = table(tomlOf(files.text("pyproject.toml")).tool);
      return table(tool.uv).workspace !== undefined;
    }
    default:
      return false;
  }
}

/** At most this many hooks are written; the rest are named in a comment. */
export const MAX_PROJECTS = 10;

/**
 * The projects of a repository, the root's first: each directory down to MAX_PROJECT_DEPTH
 * (dependencies, test data, docs and examples left out) with a language's manifest, except
 * members of a workspace above them (npm/pnpm/Yarn workspaces, a Cargo or Go workspace, a
 * Maven parent, a Gradle build, a uv workspace). A root Makefile counts when nothing else does.
 */
export function findProjects(tree: RepositoryTree): Project[] {
  const dirs = new Set<string>([""]);
  for (const path of tree.paths) {
    const parts = dirOf(path).split("/");
    for (let depth = 1; depth <= Math.min(parts.length, MAX_PROJECT_DEPTH); depth++) {
      if (parts[0] === "" || parts.slice(0, depth).some(isSkippedDirectory)) break;
      dirs.add(parts.slice(0, depth).join("/"));
    }
  }
  const sorted = [...dirs].sort(
    (a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b),
  );
  const projects: Project[] = [];
  const covering: Project[] = [];
  for (const dir of sorted) {
    const files = projectFiles(tree, dir);
    for (const project of manifestsIn(files)) {
      const covered = covering.some(
        (c) => c.ecosystem === project.ecosystem && (c.dir === "" || dir.startsWith(`${c.dir}/`)),
      );
      if (covered) continue;
      projects.push(project);
      if (coversBelow(project, files)) covering.push(project);
    }
  }
  if (projects.length === 0) {
    const makefile = ["GNUmakefile", "makefile", "Makefile"].find((n) => tree.paths.includes(n));
    if (makefile) projects.push({ dir: "", ecosystem: "make", evidence: [makefile] });
  }
  return projects;
}
