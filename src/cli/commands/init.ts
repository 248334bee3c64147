import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseCommandArgs } from "../parse-command-args.js";

const USAGE = `usage: kozmic init [DIR]

Writes a starter .github/kozmic.yml for the repository in DIR (default: the current
directory): one hook per project found at the root or up to two directories down, for
Python (pyproject.toml, requirements*.txt, uv, Poetry, Pipenv), Node.js (npm, pnpm, Yarn),
Go, Rust, Ruby, Java (Maven, Gradle) and PHP (Composer), with the image from the project's
version files and an install of its test tools that the install cache keeps; a root Makefile,
or else a commented generic hook. Beside it, .github/kozmic.schema.json gives editors completion.
An existing file is never overwritten. Then: kozmic run [DIR], commit, push.`;

/**
 * `kozmic init`: exit 0 when the configuration was written, 1 when one already exists
 * (nothing is written), 2 for bad arguments or a DIR that is not a directory.
 */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("init", USAGE, args, {}, true);
  if (typeof parsed === "number") return parsed;
  const dir = resolve(parsed.directory ?? ".");
  const [
    { renderStarterConfig },
    { readRepositoryTree },
    { CONFIG_PATH },
    { renderConfigJsonSchema },
  ] = await Promise.all([
    import("../../core/starter/render-starter-config.js"),
    import("../read-repository-tree.js"),
    import("../../core/config/format-config-issues.js"),
    import("../../core/config/render-config-json-schema.js"),
  ]);
  let tree;
  try {
    tree = await readRepositoryTree(dir);
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
  const starter = renderStarterConfig(tree);

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
  console.log(`wrote ${configFile}:`);
  for (const hook of starter.hooks) {
    const files = hook.evidence.map((e) => (hook.dir === "" ? e : `${hook.dir}/${e}`));
    const found = files.length > 0 ? ` (found ${files.join(", ")})` : "";
    console.log(`  hook "${hook.name}": ${hook.title}${found}`);
  }
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
