import { CONFIG_SCHEMA_ID } from "../config/render-config-json-schema.js";
import { goHook, rustHook } from "./compiled-hooks.js";
import {
  findProjects,
  MAX_PROJECTS,
  projectFiles,
  type Ecosystem,
  type Project,
  type ProjectFiles,
} from "./find-projects.js";
import { gradleHook, mavenHook } from "./jvm-hooks.js";
import { hasTestScript, nodeHook } from "./node-hook.js";
import { genericHook, makeHook, phpHook, rubyHook } from "./other-hooks.js";
import { pythonHook } from "./python-hook.js";
import { join, type RepositoryTree } from "./repository-tree.js";
import { shellWord, type StarterHook } from "./starter-hook.js";

/** A starter `.github/kozmic.yml`: its text and the hooks written. */
export interface StarterConfig {
  text: string;
  /** One per hook, in order: its name, what it is for ("Python"), where, and why. */
  hooks: { name: string; title: string; dir: string; evidence: string[] }[];
}

export const TITLES: Record<Ecosystem, string> = {
  python: "Python",
  node: "Node.js",
  go: "Go",
  rust: "Rust",
  ruby: "Ruby",
  maven: "Java (Maven)",
  gradle: "Java (Gradle)",
  php: "PHP",
  make: "Makefile",
  generic: "generic",
};

/** Each ecosystem's starter hook, from its project's files. */
const HOOKS: Record<Ecosystem, (files: ProjectFiles, project: Project) => StarterHook> = {
  python: pythonHook,
  node: nodeHook,
  go: goHook,
  rust: rustHook,
  ruby: rubyHook,
  maven: mavenHook,
  gradle: gradleHook,
  php: phpHook,
  make: (files, project) => makeHook(files, project.evidence[0]!),
  generic: genericHook,
};

/** Test files of each ecosystem, by path below the project's directory. */
const TEST_FILES: Partial<Record<Ecosystem, RegExp>> = {
  python: /(^|\/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$/,
  go: /_test\.go$/,
  ruby: /^(spec|test)\//,
  maven: /^src\/test\//,
  gradle: /^src\/test\//,
  php: /^tests?\//,
};

/**
 * Whether a project gets a hook. A package.json beside another language's manifest, without
 * a test script, is tooling, not a project. Else the root's project always does; one below
 * it when it has tests to run: test files, a test script, or (Rust) a crate, whose
 * `cargo test` runs its unit tests.
 */
function getsHook(tree: RepositoryTree, project: Project, all: readonly Project[]): boolean {
  if (project.ecosystem === "node") {
    const tests = hasTestScript(tree.texts[join(project.dir, "package.json")]);
    if (!tests && all.some((p) => p.dir === project.dir && p.ecosystem !== "node")) return false;
    return tests || project.dir === "";
  }
  if (project.dir === "" || project.ecosystem === "rust") return true;
  const pattern = TEST_FILES[project.ecosystem];
  return (
    pattern !== undefined && projectFiles(tree, project.dir).paths.some((p) => pattern.test(p))
  );
}

function hookName(project: Project, all: readonly Project[]): string {
  if (all.length === 1) return "test";
  const sameDir = all.filter((p) => p.dir === project.dir).length > 1;
  const where = project.dir === "" ? "" : ` ${project.dir.replace(/\//g, " ")}`;
  return `test${where}${sameDir || project.dir === "" ? ` ${project.ecosystem}` : ""}`;
}

/**
 * A starter configuration: one hook per project found (a commented generic hook when none
 * is), each with an image from the project's version files, an install that installs the
 * tests' tools outside /kozmic and is keyed on every file it reads, and the project's tests
 * as the build. Pure; the text always parses.
 */
export function renderStarterConfig(tree: RepositoryTree): StarterConfig {
  const found = findProjects(tree);
  const wanted = found.filter((p) => getsHook(tree, p, found));
  const projects: Project[] =
    wanted.length > 0
      ? wanted.slice(0, MAX_PROJECTS)
      : [{ dir: "", ecosystem: "generic", evidence: [] }];
  const left = [...found.filter((p) => !wanted.includes(p)), ...wanted.slice(MAX_PROJECTS)];
  const where = (p: Project) =>
    `${p.evidence.map((e) => join(p.dir, e)).join(", ")} (${TITLES[p.ecosystem]})`;
  const lines = [
    `# yaml-language-server: $schema=./${CONFIG_SCHEMA_ID}`,
    "#",
    "# Kozmic runs each hook below in Docker on every push and pull request; each hook's",
    "# result is a check run on the commit.",
    found.length > 0
      ? `# Written by \`kozmic init\` for: ${projects.map(where).join("; ")}.`
      : "# Written by `kozmic init` (no Python, Node.js, Go, Rust, Ruby, Java, PHP or Makefile project found).",
    ...(left.length > 0 ? [`# Not given a hook: ${left.map(where).join("; ")}.`] : []),
    "# Try it on this machine before pushing: `kozmic run` in the repository.",
    "# Every key is described in Kozmic's docs/configuration.md.",
    "hooks:",
  ];
  const hooks: StarterConfig["hooks"] = [];
  for (const project of projects) {
    const hook = HOOKS[project.ecosystem](projectFiles(tree, project.dir), project);
    const name = hookName(project, projects);
    hooks.push({
      name,
      title: TITLES[project.ecosystem],
      dir: project.dir,
      evidence: project.evidence,
    });
    lines.push(...renderHook(name, project.dir, hook));
  }
  return { text: `${lines.join("\n")}\n`, hooks };
}

function renderHook(name: string, dir: string, hook: StarterHook): string[] {
  const cd = dir === "" ? [] : [`cd ${shellWord(dir)}`];
  const block = (key: string, script: string[]) => [
    `    ${key}: |`,
    ...script.map((l) => `      ${l}`),
  ];
  const lines = [
    ...hook.notes.map((n) => `  # ${n}`),
    `  - name: ${name}`,
    `    image: ${hook.image}`,
  ];
  if (hook.env)
    lines.push(
      "    env:",
      ...Object.entries(hook.env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
    );
  if (hook.install) lines.push(...block("install", [...cd, ...hook.install]));
  if (hook.tracked.length > 0)
    lines.push(
      "    tracked_files:",
      ...hook.tracked.map((t) => `      - ${JSON.stringify(join(dir, t))}`),
    );
  lines.push(...block("build", [...cd, ...hook.build]));
  if (hook.commented) lines.push(...hook.commented.map((l) => `    # ${l}`.trimEnd()));
  lines.push("");
  return lines;
}
