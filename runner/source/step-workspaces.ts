import { mkdir, readdir, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { removeStepDirectories } from "../engine/step-mounts.js";
import { processAlive } from "../files/process-alive.js";

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

/**
 * Removes this process's directory once its steps are over, and those that processes
 * which are gone left (killed before their cleanup ran).
 */
export async function removeProcessWorkspaces(dataDir: string): Promise<void> {
  const root = workspacesRoot(dataDir);
  const names = await readdir(root).catch(() => []);
  await Promise.all(
    names
      .filter((name) => {
        const pid = /^pid-(\d+)$/.exec(name)?.[1];
        return pid !== undefined && (Number(pid) === process.pid || !processAlive(Number(pid)));
      })
      .map((name) => removeStepDirectories(join(root, name)).catch(() => {})),
  );
}

/**
 * Pure: whether the mount holding `path` (an absolute, real path) lets files run, from
 * /proc/self/mountinfo's text. A bind mount keeps its source's `noexec`, and a step whose
 * source has `./configure` must be able to run it.
 */
export function mountAllowsExec(mountinfo: string, path: string): boolean {
  let best: { point: string; options: string[] } | undefined;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = left?.split(" ") ?? [];
    const point = fields[4]?.replace(/\\040/g, " ");
    if (!point || !right) continue;
    const inside = point === "/" || path === point || path.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) {
      best = { point, options: (fields[5] ?? "").split(",") };
    }
  }
  return !best?.options.includes("noexec");
}

const execChecks = new Map<string, Promise<boolean>>();

/** Whether step directories under `root` can be bind-mounted without `noexec`; asked once. */
export function workspacesCanExec(root: string): Promise<boolean> {
  let check = execChecks.get(root);
  if (!check) {
    check = (async () => {
      try {
        await mkdir(root, { recursive: true, mode: 0o700 });
        const [mountinfo, real] = await Promise.all([
          readFile("/proc/self/mountinfo", "utf8"),
          realpath(root),
        ]);
        return mountAllowsExec(mountinfo, real);
      } catch {
        return false;
      }
    })();
    execChecks.set(root, check);
  }
  return check;
}
