import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Where steps' bind-mounted `/kozmic` directories are written (see run-step.ts). */
function workspacesRoot(dataDir: string): string {
  return join(dataDir, "steps");
}

/** A runner's: its next start removes whatever a killed life of it left there. */
export function runnerWorkspaces(dataDir: string, runnerName: string): string {
  return join(workspacesRoot(dataDir), `runner-${runnerName.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
}

/** This process's own: a `kozmic run` killed mid-step leaves it for the next one to remove. */
export function processWorkspaces(dataDir: string): string {
  return join(workspacesRoot(dataDir), `pid-${process.pid}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes this process's directory once its steps are over, and those that processes
 * which are gone left (killed before their cleanup ran).
 */
export async function removeProcessWorkspaces(dataDir: string): Promise<void> {
  const root = workspacesRoot(dataDir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((name) => {
        const pid = /^pid-(\d+)$/.exec(name)?.[1];
        return pid !== undefined && (Number(pid) === process.pid || !isAlive(Number(pid)));
      })
      .map((name) => rm(join(root, name), { recursive: true, force: true }).catch(() => {})),
  );
}
