import { spawn } from "node:child_process";
import { kozmicArgv } from "./kozmic-cli.js";

/**
 * Starts `kozmic <args>` with only `env` (plus PATH and HOME), waits until its output matches
 * `ready`, then stops it with SIGTERM. Resolves with the exit code and the output.
 */
export async function startAndStop(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, kozmicArgv(args), {
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
    child.kill("SIGTERM");
    return { ...(await exited), output };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
