/**
 * The `kozmic` command. Each subcommand lives in its own module under ./commands and
 * exports `main(args: string[]): Promise<number>` (the exit code). A command's module is
 * loaded only when that command runs, and loads what it needs once its arguments are
 * read: `kozmic --version` and `kozmic <command> --help` load next to nothing.
 */
import { readFileSync } from "node:fs";

export interface CommandModule {
  main(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  init: {
    summary: "write a starter .github/kozmic.yml for a repository: kozmic init [DIR]",
    load: () => import("./commands/init.js"),
  },
  run: {
    summary: "run the hooks of a working tree locally: kozmic run [DIR] [--hook NAME]...",
    load: () => import("./commands/run.js"),
  },
  cache: {
    summary: "list or prune cached install images: kozmic cache ls | prune",
    load: () => import("./commands/cache.js"),
  },
  secrets: {
    summary: "set, remove or list repository secrets: kozmic secrets set|rm|ls OWNER/REPO [NAME]",
    load: () => import("./commands/secrets.js"),
  },
  dispatch: {
    summary: "run a branch's head by hand: kozmic dispatch OWNER/REPO --ref BRANCH [--input K=V]",
    load: () => import("./commands/dispatch.js"),
  },
  serve: {
    summary: "run the GitHub App (webhooks, log pages) and, on embedded defaults, a runner",
    load: () => import("./commands/serve.js"),
  },
  runner: {
    summary: "run the runner daemon on this Docker host",
    load: () => import("./commands/runner.js"),
  },
  setup: {
    summary: "create the SQS queues and DynamoDB table on AWS and print their settings",
    load: () => import("./commands/setup.js"),
  },
  doctor: {
    summary: "check this host's settings: Docker, queue, table, GitHub App, public URL",
    load: () => import("./commands/doctor.js"),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "usage: kozmic <command> [options]",
    "       kozmic --version",
    "",
    "commands:",
    ...lines,
  ].join("\n");
}

/** Kozmic's version: from the first package.json above this file (src/cli/ or dist/cli/). */
function version(): string {
  for (let dir = new URL("../", import.meta.url); ; dir = new URL("../", dir)) {
    try {
      return (JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { version: string })
        .version;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dir.pathname === "/") throw error;
    }
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`kozmic: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const { loadSavedEnv } = await import("../settings/saved-env.js");
  const saved = loadSavedEnv();
  if ("refused" in saved) {
    console.error(
      `kozmic: not reading ${saved.refused} (${saved.reason}); if it is the one set-up wrote, ` +
        `\`chmod 600 ${saved.refused}\``,
    );
  }
  const { withRenamedVariables } = await import("../settings/renamed-variables.js");
  for (const notice of withRenamedVariables(process.env).notices) {
    console.error(`kozmic: ${notice}`);
  }
  return (await command.load()).main(rest);
}

process.exitCode = await dispatch(process.argv.slice(2));
