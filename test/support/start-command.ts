import { spawn } from "node:child_process";
import { kozmicArgv } from "./kozmic-cli.js";

export interface StartOptions {
  timeoutMs?: number;
  /** The umask to start under (as a login shell has it), e.g. "022". */
  umask?: string;
  /** Runs once the command is ready, before it is stopped. */
  whileReady?: () => void | Promise<void>;
}

/**
 * Starts `kozmic <args>` with only `env` (plus PATH and HOME), waits until its output matches
 * `ready`, then stops it with SIGTERM. Resolves with the exit code and the output.
 */
export async function startAndStop(
  args: string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
  { timeoutMs = 60_000, umask, whileReady }: StartOptions = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const argv = [process.execPath, ...kozmicArgv(args)];
  const [command, ...rest] = umask
    ? ["sh", "-c", `umask ${umask} && exec "$0" "$@"`, ...argv]
    : argv;
  const child = spawn(command!, rest, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`kozmic ${args[0]} did not print ${ready} in time:\n${output}`)),
        timeoutMs,
      );
      const read = (data: Buffer) => {
        output += data.toString();
        if (ready.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", read);
      child.stderr.on("data", read);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`kozmic ${args[0]} exited (${code ?? signal}) before it was ready:\n${output}`),
        );
      });
    });
    await whileReady?.();
    child.kill("SIGTERM");
    return { ...(await exited), output };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
