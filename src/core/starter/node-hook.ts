import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, present, type StarterHook } from "./starter-hook.js";
import { nodeSeries } from "./tool-versions.js";

interface PackageJson {
  scripts?: Record<string, unknown>;
  engines?: { node?: unknown };
  packageManager?: unknown;
  workspaces?: unknown;
}

function packageJson(text: string | undefined): PackageJson {
  try {
    const parsed: unknown = text === undefined ? {} : JSON.parse(text);
    return parsed !== null && typeof parsed === "object" ? (parsed as PackageJson) : {};
  } catch {
    return {};
  }
}

/** npm's placeholder for a package without tests. */
const NO_TEST = /no test specified/;

/** Whether package.json has a test script that runs something. */
export function hasTestScript(text: string | undefined): boolean {
  const test = packageJson(text).scripts?.test;
  return typeof test === "string" && !NO_TEST.test(test);
}

type Manager = "npm" | "pnpm" | "yarn" | "yarn-classic";

function managerOf(files: ProjectFiles, pkg: PackageJson): Manager {
  const declared = typeof pkg.packageManager === "string" ? pkg.packageManager : "";
  if (declared.startsWith("pnpm@") || files.has("pnpm-lock.yaml")) return "pnpm";
  if (/^yarn@[2-9]/.test(declared) || files.has(".yarnrc.yml")) return "yarn";
  if (declared.startsWith("yarn@") || files.has("yarn.lock")) return "yarn-classic";
  return "npm";
}

/** Workspace globs from package.json (npm, Yarn) or pnpm-workspace.yaml's `packages:`. */
function workspaceGlobs(files: ProjectFiles, pkg: PackageJson): string[] {
  const declared = Array.isArray(pkg.workspaces)
    ? pkg.workspaces
    : (pkg.workspaces as { packages?: unknown } | undefined)?.packages;
  const globs = Array.isArray(declared) ? declared.filter((g) => typeof g === "string") : [];
  const pnpm = files.text("pnpm-workspace.yaml") ?? "";
  for (const m of pnpm.matchAll(/^\s*-\s*["']?([^"'\s#]+)["']?/gm)) globs.push(m[1]!);
  return globs.filter((g) => !g.startsWith("!")).map((g) => g.replace(/\/+$/, ""));
}

const WARM = [
  "# Fills the package manager's cache (kept in the image) from a throwaway copy:",
  "# node_modules made in /kozmic/src would not be kept.",
  "rm -rf /tmp/deps && cp -a . /tmp/deps && cd /tmp/deps",
];

/**
 * A Node.js project's hook: the image from `.nvmrc`, `.node-version`, `.tool-versions` or
 * `engines.node`; the install fills npm's, pnpm's or Yarn's cache from the lockfile, and the
 * build installs from that cache (workspaces included), then runs `build` and `test`.
 */
export function nodeHook(files: ProjectFiles): StarterHook {
  const pkg = packageJson(files.text("package.json"));
  const engines = typeof pkg.engines?.node === "string" ? pkg.engines.node : undefined;
  const series = nodeSeries({
    nvmrc: files.textHereOrRoot(".nvmrc") ?? files.textHereOrRoot(".node-version"),
    toolVersions: files.textHereOrRoot(".tool-versions"),
    engines,
  });
  const manager = managerOf(files, pkg);
  const scripts = Object.keys(pkg.scripts ?? {});
  const run = manager === "npm" ? "npm run" : manager === "pnpm" ? "pnpm run" : "yarn run";
  const test = hasTestScript(files.text("package.json"))
    ? [manager === "npm" ? "npm test" : `${manager === "pnpm" ? "pnpm" : "yarn"} test`]
    : ['echo "package.json has no test script: add one, or put your test commands here"'];
  const locked = files.has(
    {
      npm: "package-lock.json",
      pnpm: "pnpm-lock.yaml",
      yarn: "yarn.lock",
      "yarn-classic": "yarn.lock",
    }[manager],
  );
  const frozen = {
    npm: "",
    pnpm: " --frozen-lockfile",
    yarn: " --immutable",
    "yarn-classic": " --frozen-lockfile",
  }[manager];
  const base =
    manager === "npm"
      ? locked
        ? "npm ci"
        : "npm install"
      : `${manager === "pnpm" ? "pnpm" : "yarn"} install`;
  const lock = locked ? frozen : "";
  const quiet = manager === "npm" ? " --no-audit --no-fund" : "";
  const warm = `${base}${lock}${manager === "yarn" ? " --mode=skip-build" : " --ignore-scripts"}${quiet}`;
  const install = `${base}${lock}${manager === "yarn" ? "" : " --prefer-offline"}${quiet}`;
  const corepack = manager === "pnpm" || manager === "yarn";
  const members = workspaceGlobs(files, pkg).map((g) => `${g}/package.json`);
  return {
    image: `node:${series}`,
    notes: [
      ...CACHE_NOTE,
      ...(corepack
        ? ["corepack (in the node image) brings the package manager package.json names."]
        : []),
    ],
    ...(corepack ? { env: { COREPACK_ENABLE_DOWNLOAD_PROMPT: "0" } } : {}),
    install: [...(corepack ? ["corepack enable"] : []), ...WARM, warm, "cd / && rm -rf /tmp/deps"],
    tracked: [
      "package.json",
      ...present(
        files.has,
        "package-lock.json",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "yarn.lock",
        ".yarnrc.yml",
        ".npmrc",
        ".nvmrc",
        ".node-version",
        ".tool-versions",
      ),
      ...members,
    ],
    build: [install, ...(scripts.includes("build") ? [`${run} build`] : []), ...test],
  };
}
