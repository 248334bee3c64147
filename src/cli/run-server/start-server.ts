import { spawn } from "node:child_process";
import { closeSync, openSync, statSync } from "node:fs";
import type { ServerPaths } from "./address.js";

/** Past this, the server's log starts over when the next server starts. */
const LOG_LIMIT_BYTES = 1024 * 1024;

/**
 * What of the starting run's environment the server keeps as its own: what Node.js and the
 * server itself read (where its socket goes, its settings). Every run brings its whole
 * environment with it, so the server holds none of a run's secrets or tokens for its life.
 */
const SERVER_VARIABLES =
  /^(PATH|HOME|USER|LOGNAME|TMPDIR|XDG_RUNTIME_DIR|LANG|LC_[A-Z_]+|TZ|NODE_[A-Z0-9_]+|KOZMIC_RUN_SERVER(_IDLE)?)$/;

function serverEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => SERVER_VARIABLES.test(name)));
}

/**
 * Starts `kozmic run-server` in the background, detached from this process and its
 * terminal, with this process's Node.js and options, its output to the server's log.
 * Never fails the run that starts it: a server that cannot start means the next run is
 * done in its own process again.
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
      env: serverEnvironment(process.env),
    });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No server this time.
  } finally {
    if (log !== undefined) closeSync(log);
  }
}
