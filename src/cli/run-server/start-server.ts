import { spawn } from "node:child_process";
import { closeSync, openSync, statSync } from "node:fs";
import type { ServerPaths } from "./address.js";

/** Past this, the server's log starts over when the next server starts. */
const LOG_LIMIT_BYTES = 1024 * 1024;

/**
 * Starts `kozmic run-server` in the background, detached from this process and its
 * terminal, with this process's Node.js, options and environment, its output to the
 * server's log. Never fails the run that starts it: a server that cannot start means the
 * next run is done in its own process again.
 */
export function startServer(paths: ServerPaths, kozmicBin: string): void {
  let log: number | undefined;
  try {
    let flags = "a";
    try {
      if (statSync(paths.log).size > LOG_LIMIT_BYTES) flags = "w";
    } catch {
      // No log yet.
    }
    log = openSync(paths.log, flags, 0o600);
    const child = spawn(process.execPath, [...process.execArgv, kozmicBin, "run-server"], {
      detached: true,
      stdio: ["ignore", log, log],
      cwd: "/",
      env: process.env,
    });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No server this time.
  } finally {
    if (log !== undefined) closeSync(log);
  }
}
