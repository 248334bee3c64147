import { CONFIG_SCHEMA_ID } from "../config/render-config-json-schema.js";
import {
  detectEcosystems,
  type Detected,
  type Ecosystem,
  type RepositoryRoot,
} from "./detect-ecosystem.js";

/** A starter `.github/kozmic.yml`: its text and what it was written for. */
export interface StarterConfig {
  text: string;
  ecosystem: Ecosystem;
  /** "Python", "Node.js", ...: for messages. */
  title: string;
  evidence: string[];
}

interface Hook {
  image: string;
  /** Comment lines above the hook that explain its install. */
  notes: string[];
  install?: string[];
  tracked: string[];
  build: string[];
  /** Commented-out keys shown after the hook (generic and Makefile starters). */
  commented?: string[];
}

const TITLES: Record<Ecosystem, string> = {
  python: "Python",
  node: "Node.js",
  go: "Go",
  rust: "Rust",
  ruby: "Ruby",
  make: "Makefile",
  generic: "generic",
};

/** Where /kozmic is a volume, dependencies installed in /kozmic/src would not be cached. */
const OUTSIDE_KOZMIC = "/kozmic is a volume that no cached image keeps";

/**
 * A starter configuration for the repository whose root is described: one hook for the
 * first ecosystem detected (a commented generic hook when none is), with an install script
 * and tracked files that make the install cache work. Pure; the text always parses.
 */
export function renderStarterConfig(root: RepositoryRoot): StarterConfig {
  const found = detectEcosystems(root);
  const chosen: Detected = found[0] ?? { ecosystem: "generic", evidence: [] };
  const hook = hookFor(chosen, root);
  const title = TITLES[chosen.ecosystem];
  const others = found.slice(1).map((d) => `${d.evidence.join(", ")} (${TITLES[d.ecosystem]})`);
  const header = [
    `# yaml-language-server: $schema=./${CONFIG_SCHEMA_ID}`,
    "#",
    "# Kozmic runs each hook below in Docker on every push and pull request; each hook's",
    "# result is a check run on the commit.",
    "# Written by `kozmic init` " +
      (chosen.evidence.length > 0
        ? `for a ${title} project (found ${chosen.evidence.join(", ")}).`
        : "(no Python, Node.js, Go, Rust, Ruby or Makefile project found)."),
    ...(others.length > 0
      ? [`# Also found: ${others.join("; ")}: add a hook for each part that needs its own image.`]
      : []),
    "# Try it on this machine before pushing: `kozmic run` in the repository.",
    "# Every key is described in Kozmic's docs/configuration.md.",
  ];
  const lines = [...header, "#", ...hook.notes.map((n) => `# ${n}`), "hooks:", "  - name: test"];
  lines.push(`    image: ${hook.image}`);
  if (hook.install) lines.push("    install: |", ...hook.install.map((l) => `      ${l}`));
  if (hook.tracked.length > 0)
    lines.push("    tracked_files:", ...hook.tracked.map((t) => `      - ${t}`));
  lines.push("    build: |", ...hook.build.map((l) => `      ${l}`));
  if (hook.commented) lines.push(...hook.commented.map((l) => `    # ${l}`.trimEnd()));
  return {
    text: `${lines.join("\n")}\n`,
    ecosystem: chosen.ecosystem,
    title,
    evidence: chosen.evidence,
  };
}

const CACHE_NOTE = [
  "The install script's result is cached as an image: it runs again only when the base",
  "image, the install script or a tracked file changes. Installs that download need a",
  "network: the runner's KOZMIC_NETWORK (`kozmic run`: this machine's; default: Docker's bridge).",
];

function hookFor(detected: Detected, root: RepositoryRoot): Hook {
  const has = (name: string) => root.names.includes(name);
  const present = (...names: string[]) => names.filter(has);
  switch (detected.ecosystem) {
    case "python": {
      const requirements = detected.evidence.filter((n) => n.endsWith(".txt"));
      if (requirements.length > 0)
        return {
          image: "python:3.12",
          notes: [...CACHE_NOTE, "pip's --user packages live in ~/.local, outside /kozmic."],
          install: requirements.map((r) => `pip install --user -r ${r}`),
          tracked: requirements,
          build: ["python -m pytest"],
        };
      return {
        image: "python:3.12",
        notes: [
          ...CACHE_NOTE,
          "The install puts the project's dependencies in ~/.local (outside /kozmic); the",
          "build installs the project itself again, at this commit, without them.",
        ],
        install: ["pip install --user ."],
        tracked: present("pyproject.toml", "setup.py", "setup.cfg"),
        build: ["pip install --user --no-deps .", "python -m pytest"],
      };
    }
    case "node": {
      const lock = has("package-lock.json")
        ? { file: "package-lock.json", command: "npm ci" }
        : has("yarn.lock")
          ? { file: "yarn.lock", command: "yarn install --frozen-lockfile" }
          : undefined;
      const files = ["package.json", ...(lock ? [lock.file] : [])];
      const scripts = packageScripts(root.texts["package.json"]);
      const run = lock?.file === "yarn.lock" ? "yarn" : "npm run";
      const build = [
        'ln -sfn "$HOME/deps/node_modules" node_modules',
        ...(scripts.includes("build") ? [`${run} build`] : []),
        ...(scripts.includes("test")
          ? [lock?.file === "yarn.lock" ? "yarn test" : "npm test"]
          : ['echo "package.json has no test script: add one, or put your test commands here"']),
      ];
      return {
        image: "node:22",
        notes: [
          ...CACHE_NOTE,
          `${OUTSIDE_KOZMIC}, so node_modules is installed in ~/deps`,
          "and linked into the checkout by the build.",
        ],
        install: [
          'mkdir -p "$HOME/deps"',
          `cp ${files.join(" ")} "$HOME/deps/"`,
          `cd "$HOME/deps" && ${lock?.command ?? "npm install"}`,
        ],
        tracked: files,
        build,
      };
    }
    case "go":
      return {
        image: "golang:1.23",
        notes: [...CACHE_NOTE, "Modules are downloaded to the image's GOPATH, outside /kozmic."],
        install: ["go mod download"],
        tracked: present("go.mod", "go.sum"),
        build: ["go build ./...", "go test ./..."],
      };
    case "rust":
      return {
        image: "rust:1",
        notes: [...CACHE_NOTE, "Crates are fetched to the image's CARGO_HOME, outside /kozmic."],
        install: ["cargo fetch"],
        tracked: present("Cargo.toml", "Cargo.lock"),
        build: ["cargo test"],
      };
    case "ruby":
      return {
        image: "ruby:3.3",
        notes: [...CACHE_NOTE, "Gems are installed to the image's GEM_HOME, outside /kozmic."],
        install: ["bundle install"],
        tracked: present("Gemfile", "Gemfile.lock"),
        build: has("Rakefile")
          ? ["bundle exec rake"]
          : ['echo "no Rakefile: put your test command here, e.g. bundle exec rspec"'],
      };
    case "make": {
      const makefile = detected.evidence[0]!;
      const target = /^test\s*:/m.test(root.texts[makefile] ?? "") ? "make test" : "make";
      return {
        image: "buildpack-deps:bookworm",
        notes: [
          "buildpack-deps has make, compilers and common libraries. To cache what the build",
          "needs beyond them, add an install script (its result is cached as an image) and the",
          "files it depends on, as in the commented keys below.",
        ],
        tracked: [],
        build: [target],
        commented: [
          "install: |",
          "  apt-get update && apt-get install -y --no-install-recommends libfoo-dev",
          "tracked_files:",
          "  - Makefile",
        ],
      };
    }
    case "generic":
      return {
        image: "debian:bookworm",
        notes: [
          "Put your build and test commands in `build`. To cache the tools they need, add an",
          "install script (its result is cached as an image, rebuilt when the script or a",
          "tracked file changes) and the files it reads, as in the commented keys below.",
        ],
        tracked: [],
        build: ['echo "Kozmic ran this hook: put your build and test commands here"'],
        commented: [
          "install: |",
          "  apt-get update && apt-get install -y --no-install-recommends make",
          "tracked_files:",
          "  - Makefile",
        ],
      };
  }
}

/** The names of package.json's scripts; none when it is not valid JSON. */
function packageScripts(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as { scripts?: unknown };
    const scripts = parsed.scripts;
    return scripts && typeof scripts === "object" ? Object.keys(scripts) : [];
  } catch {
    return [];
  }
}
