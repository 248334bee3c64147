/**
 * What kind of project a repository is, guessed from the files at its root. Pure: the caller
 * lists the root's file names and reads the few files whose text refines the guess
 * (FILES_READ), from a working tree (`kozmic init`) or from GitHub (the home page).
 */

export type Ecosystem = "python" | "node" | "go" | "rust" | "ruby" | "make" | "generic";

/** The files at the root of a repository: their names, and the text of those in FILES_READ. */
export interface RepositoryRoot {
  names: readonly string[];
  texts: Readonly<Record<string, string>>;
}

/** Root files whose text the guess uses: package.json's scripts, a Makefile's targets. */
export const FILES_READ = ["package.json", "Makefile", "makefile", "GNUmakefile"] as const;

export interface Detected {
  ecosystem: Ecosystem;
  /** The files that decided it, e.g. ["requirements.txt"]. */
  evidence: string[];
}

const REQUIREMENTS = /^requirements([-_.][A-Za-z0-9_.-]+)?\.txt$/;
const MAKEFILES = ["GNUmakefile", "makefile", "Makefile"];

/**
 * Every ecosystem the root shows, most specific first: a Makefile often only wraps the
 * language's own tool, so it comes after the languages. Empty when nothing is recognised.
 */
export function detectEcosystems(root: RepositoryRoot): Detected[] {
  const has = (name: string) => root.names.includes(name);
  const found: Detected[] = [];
  const requirements = root.names.filter((n) => REQUIREMENTS.test(n)).sort();
  const python = [...requirements, ...["pyproject.toml"].filter(has)];
  if (python.length > 0) found.push({ ecosystem: "python", evidence: python });
  if (has("package.json")) found.push({ ecosystem: "node", evidence: ["package.json"] });
  if (has("go.mod")) found.push({ ecosystem: "go", evidence: ["go.mod"] });
  if (has("Cargo.toml")) found.push({ ecosystem: "rust", evidence: ["Cargo.toml"] });
  if (has("Gemfile")) found.push({ ecosystem: "ruby", evidence: ["Gemfile"] });
  const makefile = MAKEFILES.find(has);
  if (makefile) found.push({ ecosystem: "make", evidence: [makefile] });
  return found;
}

/** The ecosystem a starter configuration is written for: the first detected, else generic. */
export function detectEcosystem(root: RepositoryRoot): Detected {
  return detectEcosystems(root)[0] ?? { ecosystem: "generic", evidence: [] };
}
