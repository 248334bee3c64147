import { parse as parseToml } from "smol-toml";

/** A hook `kozmic init` writes, before it is rendered as YAML. */
export interface StarterHook {
  image: string;
  /** Comment lines above the hook: why its install is as it is. */
  notes: string[];
  env?: Record<string, string>;
  install?: string[];
  /** Relative to the project's directory. */
  tracked: string[];
  build: string[];
  /** Commented-out keys shown after the hook (generic and Makefile starters). */
  commented?: string[];
}

/** The note every starter with an install carries. */
export const CACHE_NOTE = [
  "The install's result is cached as an image: it runs again only when the base image,",
  "the install script or a tracked file changes. /kozmic is never part of that image, so",
  "dependencies are installed outside it (or fill a package cache the build installs from).",
];

/** Tests with a name like these are what a project's test dependencies are called. */
export const TEST_GROUP = /^(tests?|testing|dev|develop|development|ci|check)$/i;

/** Paths of `files` that exist, in order. */
export function present(has: (path: string) => boolean, ...files: string[]): string[] {
  return files.filter(has);
}

/** A word quoted for /bin/sh when it needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

export type Table = Record<string, unknown>;

const parsedBy =
  (parse: (text: string) => unknown) =>
  (text: string | undefined): Table => {
    try {
      return text === undefined ? {} : table(parse(text));
    } catch {
      return {};
    }
  };

/** A TOML file's tables (pyproject.toml, Cargo.toml); empty when absent or not valid TOML. */
export const tomlOf = parsedBy(parseToml);

/** A JSON file's object (package.json, composer.json); empty when absent or not an object. */
export const jsonOf = parsedBy(JSON.parse);

/** A value as a table; empty when it is not one. */
export const table = (value: unknown): Table =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Table) : {};
