import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

/**
 * How the `kozmic` command is started, for every test, benchmark and script that runs it:
 * `node bin/kozmic.js <args>`, which runs the compiled CLI in dist/ (`npm run build`).
 *
 *   spawn(process.execPath, kozmicArgv(["run", dir]), options)
 *
 * The first call checks that dist/ is newer than every source (scripts/build.sh --check),
 * so that no test runs yesterday's build: when it is not, it throws, saying to build.
 */
export const KOZMIC_BIN = fileURLToPath(new URL("../../bin/kozmic.js", import.meta.url));
const BUILD = fileURLToPath(new URL("../../scripts/build.sh", import.meta.url));

let built = false;

/** Throws unless dist/ holds a build of the current sources. */
export function assertBuilt(): void {
  if (built) return;
  const check = spawnSync("bash", [BUILD, "--check"], { encoding: "utf8" });
  if (check.status !== 0) {
    throw new Error(
      `kozmic runs compiled from dist/, and ${check.stdout.trim() || check.stderr.trim()}: ` +
        "run `npm run build` (npm test does)",
    );
  }
  built = true;
}

/**
 * The arguments to give `process.execPath` (node) to run `kozmic <args>`; `nodeOptions`
 * (such as `--import <hook>`) go to node itself.
 */
export function kozmicArgv(args: readonly string[], nodeOptions: readonly string[] = []): string[] {
  assertBuilt();
  return [...nodeOptions, KOZMIC_BIN, ...args];
}

export interface KozmicResult {
  code: number;
  stdout: string;
  stderr: string;
}

const exec = promisify(execFile);

/**
 * Runs the compiled `kozmic <args>` to its end: its exit code and output, whatever the code.
 * `node` is the Node.js to run it with (this one unless given), `nodeOptions` go to it.
 */
export async function runKozmic(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; node?: string; nodeOptions?: string[] } = {},
): Promise<KozmicResult> {
  try {
    const { stdout, stderr } = await exec(
      options.node ?? process.execPath,
      kozmicArgv(args, options.nodeOptions),
      {
        env: options.env ?? process.env,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
