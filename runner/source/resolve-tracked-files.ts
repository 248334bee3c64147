import { createHash } from "node:crypto";
import { createReadStream, type Dirent } from "node:fs";
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type Picomatch from "picomatch";
import { checkTrackedPattern } from "../../src/core/config/check-tracked-pattern.js";
import { ConfigError } from "../../src/core/errors.js";

/** One entry of a hook's `tracked_files`, as it goes into the install cache key. */
export interface TrackedFile {
  /** Path relative to the repository root, `/`-separated; the pattern itself when nothing matched. */
  path: string;
  /** sha256 (hex) of the content, of a directory's listing and contents, or `"missing"`. */
  digest: string;
}

export const MISSING = "missing";

/**
 * Expands `tracked_files` patterns against a checked-out repository and digests what they
 * name. Literal paths may be files or directories; globs (picomatch syntax, dotfiles included)
 * match files and symlinks, or directories when the pattern ends in `/`. Results are sorted and de-duplicated; `.git/` is never looked into.
 * A pattern matching nothing yields `{ path: pattern, digest: "missing" }`. A path that
 * resolves through a symlink to outside the root throws a ConfigError and is never read.
 */
export async function resolveTrackedFiles(
  root: string,
  patterns: readonly string[],
): Promise<TrackedFile[]> {
  const realRoot = await realpath(root);
  if (patterns.length === 0) return [];
  // Loaded when there is a pattern: most hooks have none, and it takes 10-30 ms to load.
  const { default: picomatch } = await import("picomatch");
  const found = new Map<string, string>();
  let tree: { path: string; kind: Kind }[] | undefined;
  for (const pattern of patterns) {
    const problem = checkTrackedPattern(pattern);
    if (problem) refuse(pattern, problem);
    const entries = picomatch.scan(pattern).isGlob
      ? expandGlob(picomatch, (tree ??= await listTree(realRoot)), pattern)
      : [normalizeLiteral(pattern)];
    const existing: string[] = [];
    for (const entry of entries) {
      if (isInGit(entry)) refuse(pattern, "must not point into .git/");
      if (await exists(path.join(realRoot, entry))) existing.push(entry);
    }
    if (existing.length === 0) {
      found.set(pattern, MISSING);
      continue;
    }
    for (const entry of existing) {
      if (!found.has(entry)) found.set(entry, await digestEntry(realRoot, entry));
    }
  }
  return [...found]
    .map(([p, digest]) => ({ path: p, digest }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

type Kind = "file" | "dir" | "symlink";

/** Globs see files and symlinks (directories when the pattern ends in `/`); symlinks are not entered. */
function expandGlob(
  picomatch: typeof Picomatch,
  tree: { path: string; kind: Kind }[],
  pattern: string,
): string[] {
  const directories = pattern.endsWith("/");
  const isMatch = picomatch(directories ? pattern.slice(0, -1) : pattern, { dot: true });
  return tree
    .filter((e) => (directories ? e.kind === "dir" : e.kind !== "dir") && isMatch(e.path))
    .map((e) => e.path);
}

/** Every entry under `directory` but `.git`, a directory before what it holds. */
async function* walkTree(
  directory: string,
  prefix = "",
): AsyncGenerator<{ relative: string; absolute: string; entry: Dirent }> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.name === ".git") continue;
    const relative = prefix + entry.name;
    const absolute = path.join(directory, entry.name);
    yield { relative, absolute, entry };
    if (entry.isDirectory()) yield* walkTree(absolute, `${relative}/`);
  }
}

async function listTree(realRoot: string): Promise<{ path: string; kind: Kind }[]> {
  const out: { path: string; kind: Kind }[] = [];
  for await (const { relative, entry } of walkTree(realRoot)) {
    if (entry.isDirectory()) out.push({ path: relative, kind: "dir" });
    else if (entry.isSymbolicLink()) out.push({ path: relative, kind: "symlink" });
    else if (entry.isFile()) out.push({ path: relative, kind: "file" });
  }
  return out;
}

function normalizeLiteral(pattern: string): string {
  return path.posix.normalize(pattern).replace(/\/+$/, "").replace(/^\.\//, "") || ".";
}

function isInGit(relative: string): boolean {
  return relative.split("/").includes(".git");
}

async function exists(absolute: string): Promise<boolean> {
  try {
    await lstat(absolute);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function digestEntry(realRoot: string, relative: string): Promise<string> {
  const absolute = path.join(realRoot, relative);
  let target: string;
  try {
    target = await realpath(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") refuse(relative, "is a symlink loop");
    if (!isNotFound(error)) throw error;
    // A dangling symlink: its target text is its content, as inside directories.
    const link = await readlink(absolute);
    if (!isInside(realRoot, path.resolve(path.dirname(absolute), link)))
      refuse(relative, "is a symlink that points outside the repository");
    return sha256(`symlink:${link}`);
  }
  if (!isInside(realRoot, target))
    refuse(relative, "resolves through a symlink to outside the repository; it is not read");
  if (isInGit(path.relative(realRoot, target).split(path.sep).join("/")))
    refuse(relative, "resolves through a symlink into .git/");
  const stats = await lstat(target);
  if (stats.isDirectory()) return digestDirectory(target);
  if (stats.isFile()) return digestFile(target);
  refuse(relative, "is neither a regular file nor a directory");
}

/** Sorted relative paths with each entry's kind and digest; symlinks count as their target text. */
async function digestDirectory(directory: string): Promise<string> {
  const lines: string[] = [];
  for await (const { relative, absolute, entry } of walkTree(directory)) {
    if (entry.isDirectory()) lines.push(`${relative}/\0dir`);
    else if (entry.isSymbolicLink())
      lines.push(`${relative}\0symlink:${sha256(await readlink(absolute))}`);
    else if (entry.isFile()) lines.push(`${relative}\0file:${await digestFile(absolute)}`);
    else lines.push(`${relative}\0special`);
  }
  lines.sort();
  return sha256(lines.join("\n"));
}

async function digestFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative === "" ||
    (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function refuse(trackedPath: string, problem: string): never {
  const message = `tracked_files: "${trackedPath}" ${problem}`;
  throw new ConfigError(message, [{ message, path: ["tracked_files"] }]);
}
