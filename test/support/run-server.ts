import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kozmicArgv } from "./kozmic-cli.js";

/** How a test's `kozmic run` commands run: each in its own process, or handed to a run server. */
export type RunMode = "in-process" | "served";

let runtimeDir: string | undefined;

/** A private XDG_RUNTIME_DIR of this test process's own: its run servers are no one else's. */
function testRuntimeDir(): string {
  runtimeDir ??= mkdtempSync(join(tmpdir(), "kozmic-runtime-"));
  return runtimeDir;
}

/** The variables that make a `kozmic run` run in the given mode. */
export function runServerEnv(mode: RunMode): Record<string, string> {
  return mode === "served"
    ? { KOZMIC_RUN_SERVER: "on", XDG_RUNTIME_DIR: testRuntimeDir() }
    : { KOZMIC_RUN_SERVER: "off" };
}

/** The sockets of the run servers listening in a runtime directory. */
export function serverSockets(dir = testRuntimeDir()): string[] {
  const sockets = join(dir, "kozmic");
  return existsSync(sockets)
    ? readdirSync(sockets)
        .filter((name) => name.endsWith(".sock"))
        .map((name) => join(sockets, name))
    : [];
}

/** The run server logs in a runtime directory, all together. */
export function serverLogs(dir = testRuntimeDir()): string {
  const logs = join(dir, "kozmic");
  return existsSync(logs)
    ? readdirSync(logs)
        .filter((name) => name.endsWith(".log"))
        .map((name) => readFileSync(join(logs, name), "utf8"))
        .join("")
    : "";
}

/** Waits until `check` holds, up to `ms`; throws `what` when it never does. */
export async function eventually(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) throw new Error(`never happened within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface TestRunServer {
  process: ChildProcess;
  /** Its own output (what it logs), so far. */
  log(): string;
  /** How many runs it has finished. */
  servedRuns(): number;
  stop(): Promise<void>;
}

/**
 * `kozmic run-server` started in the foreground of this test process, with `env` over the
 * served mode's variables; resolves once it listens.
 */
export async function startTestRunServer(env: Record<string, string> = {}): Promise<TestRunServer> {
  const fullEnv = { ...process.env, ...runServerEnv("served"), ...env };
  const dir = fullEnv.XDG_RUNTIME_DIR!;
  const logDir = mkdtempSync(join(tmpdir(), "kozmic-run-server-log-"));
  const logFile = join(logDir, "server.log");
  const out = openSync(logFile, "a");
  const before = new Set(serverSockets(dir));
  const child = spawn(process.execPath, kozmicArgv(["run-server"]), {
    env: fullEnv,
    stdio: ["ignore", out, out],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  await eventually(
    () => /serving kozmic run on /.test(log()) && serverSockets(dir).some((s) => !before.has(s)),
    `kozmic run-server listening (its log: ${log()})`,
  );
  return {
    process: child,
    log,
    servedRuns: () => log().match(/ ran kozmic run in /g)?.length ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
