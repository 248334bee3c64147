import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseDirectoryArgs } from "../parse-directory-args.js";

const USAGE = `usage: kozmic init [DIR]

Writes a starter .github/kozmic.yml for the repository in DIR (default: the current
directory), guessed from the files at its root: Python (requirements*.txt, pyproject.toml),
Node.js (package.json), Go (go.mod), Rust (Cargo.toml), Ruby (Gemfile), a Makefile, or else
a commented generic hook. Beside it, .github/kozmic.schema.json gives editors completion.
An existing file is never overwritten. Then: kozmic run [DIR], commit, push.`;

/** Larger root files are not read: the guess needs package.json's scripts, a Makefile's targets. */
const MAX_READ_BYTES = 256 * 1024;

/**
 * `kozmic init`: exit 0 when the configuration was written, 1 when one already exists
 * (nothing is written), 2 for bad arguments or a DIR that is not a directory.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseDirectoryArgs("init", USAGE, args, {});
  if (typeof parsed === "number") return parsed;
  const dir = resolve(parsed.directory ?? ".");
  const [{ renderStarterConfig }, { FILES_READ }, { CONFIG_PATH }, { renderConfigJsonSchema }] =
    await Promise.all([
      import("../../core/starter/render-starter-config.js"),
      import("../../core/starter/detect-ecosystem.js"),
      import("../../core/config/format-config-issues.js"),
      import("../../core/config/render-config-json-schema.js"),
    ]);
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === "ENOTDIR"
        ? `kozmic init: ${dir} is a file; give the repository's directory`
        : code === "ENOENT"
          ? `kozmic init: ${dir} does not exist; give the repository's directory`
          : `kozmic init: cannot list ${dir}: ${(error as Error).message}`,
    );
    return 2;
  }
  const texts: Record<string, string> = {};
  for (const name of FILES_READ) {
    if (!names.includes(name)) continue;
    const file = join(dir, name);
    if ((await stat(file)).size <= MAX_READ_BYTES) texts[name] = await readFile(file, "utf8");
  }
  const starter = renderStarterConfig({ names, texts });

  const configFile = join(dir, CONFIG_PATH);
  await mkdir(join(dir, ".github"), { recursive: true });
  try {
    // "wx": never overwrite, even a file created since we looked.
    await writeFile(configFile, starter.text, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    console.error(
      `kozmic init: ${configFile} already exists; nothing was written (kozmic init never overwrites). ` +
        `Check it with: kozmic run${shortPath(dir)}`,
    );
    return 1;
  }
  const found = starter.evidence.length > 0 ? ` (found ${starter.evidence.join(", ")})` : "";
  console.log(`wrote ${configFile}: a ${starter.title} hook${found}`);
  const schemaFile = join(dir, ".github/kozmic.schema.json");
  try {
    await writeFile(schemaFile, renderConfigJsonSchema(), { flag: "wx" });
    console.log(`wrote ${schemaFile}: completion and checking in editors`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    console.log(`kept ${schemaFile} as it is`);
  }
  const where = shortPath(dir);
  console.log(
    [
      "next:",
      `  kozmic run${where}   run the hook here, in Docker, as a runner would`,
      "  then commit .github/ and push: each push shows the hook as a check on the commit",
    ].join("\n"),
  );
  return 0;
}

/** How to name DIR after `kozmic run`: nothing for the current directory, else the shorter path. */
function shortPath(dir: string): string {
  const path = relative(process.cwd(), dir);
  if (path === "") return "";
  return ` ${path.startsWith("..") ? dir : path}`;
}
