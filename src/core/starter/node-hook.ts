import type { ProjectFiles } from "./find-projects.js";
import { CACHE_NOTE, jsonOf, present, type StarterHook } from "./starter-hook.js";
import { nodeSeries } from "./tool-versions.js";

interface PackageJson {
  scripts?: Record<string, unknown>;
  engines?: { node?: unknown };
  packageManager?: unknown;
  workspaces?: unknown;
}

const packageJson = (text: string | undefined) => jsonOf(text) as PackageJson;

/** npm's placeholder for a package without tests. */
const NO_TEST = /no test specified/;

/** Whether package.json has a test script that runs something. */
export function hasTestScript(text: string | undefined): boolean {
  const test = packageJson(text).scripts?.test;
  return typeof test === "string" && !NO_TEST.test(test);
}

type Manager = "npm" | "pnpm" | "yarn" | "yarn-classic";

/** How each package manager installs: its lockfile, and the flags for a locked, script-less or cached install. */
const MANAGERS: Record<
  Manager,
  {
    command: string;
    lockfile: string;
    frozen: string;
    noBuild: string;
    offline: string;
    corepack: boolean;
  }
> = {
  npm: {
    command: "npm",
    lockfile: "package-lock.json",
    frozen: "",
    noBuild: " --ignore-scripts",
    offline: " --prefer-offline",
    corepack: false,
  },
  pnpm: {
    command: "pnpm",
    lockfile: "pnpm-lock.yaml",
    frozen: " --frozen-lockfile",
    noBuild: " --ignore-scripts",
    offline: " --prefer-offline",
    corepack: true,
  },
  // Yarn Berry reads its cache first anyway.
  yarn: {
    command: "yarn",
    lockfile: "yarn.lock",
    frozen: " --immutable",
    noBuild: " --mode=skip-build",
    offline: "",
    corepack: true,
  },
  "yarn-classic": {
    command: "yarn",
    lockfile: "yarn.lock",
    frozen: " --frozen-lockfile",
    noBuild: " --ignore-scripts",
    offline: " --prefer-offline",
    corepack: false,
  },
};

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
  const manager = MANAGERS[managerOf(files, pkg)];
  const scripts = Object.keys(pkg.scripts ?? {});
  const test = hasTestScript(files.text("package.json"))
    ? [`${manager.command} test`]
    : ['echo "package.json has no test script: add one, or put your test commands here"'];
  const locked = files.has(manager.lockfile);
  // npm installs exactly the lockfile with `ci`; the others with a flag.
  const base = `${manager.command} ${manager.command === "npm" && locked ? "ci" : "install"}`;
  const lock = locked ? manager.frozen : "";
  const quiet = manager.command === "npm" ? " --no-audit --no-fund" : "";
  const warm = `${base}${lock}${manager.noBuild}${quiet}`;
  const install = `${base}${lock}${manager.offline}${quiet}`;
  const { corepack } = manager;
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
    build: [
      install,
      ...(scripts.includes("build") ? [`${manager.command} run build`] : []),
      ...test,
    ],
  };
}
