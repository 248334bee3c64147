import { pickSeries } from "./version-range.js";

// The version of a project's tool, from its own version files, as the series of an official
// image tag: "3.12" for python:3.12, "22" for node:22. Pure: callers pass file texts.

/** Defaults when a project says nothing: what the stand-in images used in tests carry too. */
export const DEFAULT_SERIES = {
  python: "3.13",
  node: "22",
  go: "1.24",
  ruby: "3.3",
  java: "21",
  php: "8.4",
} as const;

const PYTHON_SERIES = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"];
const NODE_SERIES = ["18", "20", "22", "24"];
const RUBY_SERIES = ["3.0", "3.1", "3.2", "3.3", "3.4"];
const PHP_SERIES = ["7.4", "8.0", "8.1", "8.2", "8.3", "8.4"];
/** Java releases with official images kept up to date. */
const JAVA_LTS = [8, 11, 17, 21, 25];
const NODE_CODENAMES: Record<string, string> = {
  hydrogen: "18",
  iron: "20",
  jod: "22",
  krypton: "24",
};

/** The first line that is not blank or a comment. */
function firstLine(text: string | undefined): string | undefined {
  return text
    ?.split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !l.startsWith("#"));
}

/** The version asdf's or mise's `.tool-versions` gives a tool, e.g. "3.11.4" for python. */
export function toolVersionsEntry(
  text: string | undefined,
  ...tools: string[]
): string | undefined {
  for (const line of text?.split("\n") ?? []) {
    const [tool, version] = line.trim().split(/\s+/);
    if (tool && version && tools.includes(tool)) return version;
  }
  return undefined;
}

/** "3.12.1" → "3.12"; undefined when the text does not start with a version. */
function majorMinor(text: string | undefined): string | undefined {
  return /(\d+\.\d+)/.exec(text ?? "")?.[1];
}

export function pythonSeries(files: {
  pythonVersion?: string;
  toolVersions?: string;
  requiresPython?: string;
}): string {
  const pinned =
    majorMinor(firstLine(files.pythonVersion)) ??
    majorMinor(toolVersionsEntry(files.toolVersions, "python"));
  return pinned ?? pickSeries(files.requiresPython, PYTHON_SERIES, DEFAULT_SERIES.python);
}

export function nodeSeries(files: {
  nvmrc?: string;
  toolVersions?: string;
  engines?: string;
}): string {
  const pinned = firstLine(files.nvmrc) ?? toolVersionsEntry(files.toolVersions, "nodejs", "node");
  if (pinned !== undefined) {
    const lts = /^lts\/(\w+)/i.exec(pinned)?.[1]?.toLowerCase();
    if (lts !== undefined) return NODE_CODENAMES[lts] ?? DEFAULT_SERIES.node;
    const major = /^v?(\d+)/.exec(pinned)?.[1];
    if (major !== undefined) return major;
  }
  return pickSeries(files.engines, NODE_SERIES, DEFAULT_SERIES.node);
}

/**
 * go.mod's `toolchain go1.23.4` or else its `go 1.25.1` line, as "1.23" / "1.25". A `go`
 * line older than 1.21 is only a language version (no toolchain was ever enforced before
 * 1.21): the default then.
 */
export function goSeries(goMod: string | undefined, toolVersions?: string): string {
  const toolchain = /^toolchain\s+go(\d+\.\d+)/m.exec(goMod ?? "")?.[1];
  if (toolchain) return toolchain;
  const pinned = majorMinor(toolVersionsEntry(toolVersions, "golang", "go"));
  if (pinned) return pinned;
  const go = /^go\s+(\d+)\.(\d+)/m.exec(goMod ?? "");
  if (go && (Number(go[1]) > 1 || Number(go[2]) >= 21)) return `${go[1]}.${go[2]}`;
  return DEFAULT_SERIES.go;
}

/** The rust image's tag: "1.80" from a pinned toolchain, else "1" (the newest stable). */
export function rustTag(toolchain: string | undefined, toolVersions?: string): string {
  const channel =
    /^\s*channel\s*=\s*"([^"]+)"/m.exec(toolchain ?? "")?.[1] ??
    (toolchain !== undefined && !toolchain.includes("[") ? firstLine(toolchain) : undefined) ??
    toolVersionsEntry(toolVersions, "rust");
  return majorMinor(channel) ?? "1";
}

export function rubySeries(files: {
  rubyVersion?: string;
  toolVersions?: string;
  gemfile?: string;
}): string {
  const pinned =
    majorMinor(firstLine(files.rubyVersion)) ??
    majorMinor(toolVersionsEntry(files.toolVersions, "ruby"));
  if (pinned) return pinned;
  const constraint = /^\s*ruby\s+["']([^"']+)["']/m.exec(files.gemfile ?? "")?.[1];
  return pickSeries(constraint?.replace(/~>/g, "~="), RUBY_SERIES, DEFAULT_SERIES.ruby);
}

/** composer.json's `require.php` constraint, as the php image's series. */
export function phpSeries(constraint: string | undefined): string {
  return pickSeries(constraint, PHP_SERIES, DEFAULT_SERIES.php);
}

/**
 * The Java release a Maven or Gradle build targets ("1.8" → 8), rounded up to the next
 * long-term release, which has images; the default when the build does not say.
 */
export function javaRelease(buildText: string | undefined, toolVersions?: string): string {
  const text = buildText ?? "";
  const found =
    /<maven\.compiler\.release>\s*([\d.]+)/.exec(text)?.[1] ??
    /<release>\s*([\d.]+)\s*<\/release>/.exec(text)?.[1] ??
    /<java\.version>\s*([\d.]+)/.exec(text)?.[1] ??
    /<maven\.compiler\.(?:source|target)>\s*([\d.]+)/.exec(text)?.[1] ??
    /JavaLanguageVersion\.of\(\s*(\d+)\s*\)/.exec(text)?.[1] ??
    /jvmToolchain\(\s*(\d+)\s*\)/.exec(text)?.[1] ??
    /(?:source|target)Compatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?([\d._]+)/.exec(
      text,
    )?.[1] ??
    /(\d+)/.exec(toolVersionsEntry(toolVersions, "java") ?? "")?.[1];
  if (found === undefined) return DEFAULT_SERIES.java;
  const release = Number(found.replace(/^1[._]/, "").replace(/_/g, "."));
  const lts = JAVA_LTS.find((v) => v >= Math.floor(release));
  return String(lts ?? JAVA_LTS[JAVA_LTS.length - 1]);
}
