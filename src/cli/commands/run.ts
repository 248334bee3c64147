import { checkSecretName, checkSecretValue } from "../../core/secret-rules.js";
import { parseCommandArgs } from "../parse-command-args.js";

const USAGE =
  "usage: kozmic run [DIR] [--hook NAME]... [--secret NAME]... [--artifacts DIR]\n" +
  "  --secret NAME    give hooks that name secret NAME the value of this environment variable\n" +
  "  --artifacts DIR  copy each hook's artifacts into DIR/<hook>/ (default ./kozmic-artifacts)";

/**
 * The values of `--secret` names from this process's environment, or what is wrong with
 * them (never the value).
 */
function secretsFromEnv(names: string[]): Record<string, string> | string {
  const values: Record<string, string> = {};
  for (const name of names) {
    const problem = checkSecretName(name);
    if (problem) return `--secret ${name}: ${problem}`;
    const value = process.env[name];
    if (value === undefined) {
      return `--secret ${name}: the environment variable ${name} is not set; set it to the value`;
    }
    const bad = checkSecretValue(value);
    if (bad) return `--secret ${name}: ${bad}`;
    values[name] = value;
  }
  return values;
}

/** `kozmic run`: runs a working tree's hooks with the real pipeline and cache. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "run",
    USAGE,
    args,
    {
      hook: { type: "string", multiple: true },
      secret: { type: "string", multiple: true },
      artifacts: { type: "string" },
    },
    true,
  );
  if (typeof parsed === "number") return parsed;
  const secrets = secretsFromEnv(parsed.values.secret ?? []);
  if (typeof secrets === "string") {
    console.error(`kozmic run: ${secrets}`);
    return 2;
  }
  // The run's code, loaded once the arguments are known to be good (`--help` needs none).
  const { runHooks } = await import("../run-hooks.js");
  return runHooks(
    parsed.directory ?? ".",
    parsed.values.hook ?? [],
    secrets,
    parsed.values.artifacts ?? "kozmic-artifacts",
  );
}
