/**
 * The `kozmic` command. Each subcommand lives in its own module under ./commands and
 * exports `main(args: string[]): Promise<number>` (the exit code).
 */
const COMMANDS: Record<string, { summary: string }> = {
  run: {
    summary: "run the hooks of a working tree locally: kozmic run [DIR] [--hook NAME]...",
  },
  cache: {
    summary: "list or prune cached install images: kozmic cache ls | prune",
  },
  serve: {
    summary: "run the GitHub App (webhooks, log pages) and, on embedded defaults, a runner",
  },
  runner: {
    summary: "run the runner daemon on this Docker host",
  },
};

export interface CommandModule {
  main(args: string[]): Promise<number>;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ["usage: kozmic <command> [options]", "", "commands:", ...lines].join("\n");
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`kozmic: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let module: CommandModule;
  try {
    module = (await import(`./commands/${name}.js`)) as CommandModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") {
      console.error(`kozmic: "${name}" is not available in this version yet`);
      return 2;
    }
    throw error;
  }
  return module.main(rest);
}

process.exitCode = await dispatch(process.argv.slice(2));
