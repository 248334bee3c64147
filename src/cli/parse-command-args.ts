import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The arguments of a command: its options, `--help`, and at most one directory when it
 * takes one (`kozmic run`, `kozmic init`). Either what was given, or the exit code once
 * usage or an error is printed (0 for --help, 2 for anything wrong).
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  usage: string,
  args: string[],
  options: O,
  takesDirectory = false,
):
  | {
      values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>["values"];
      directory?: string;
    }
  | number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: takesDirectory,
      options: { ...options, help: { type: "boolean", short: "h" } } as O,
    });
  } catch (error) {
    console.error(`kozmic ${command}: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    console.error(`kozmic ${command}: expected at most one directory\n${usage}`);
    return 2;
  }
  const directory = parsed.positionals[0];
  return { values: parsed.values, ...(directory !== undefined ? { directory } : {}) };
}
