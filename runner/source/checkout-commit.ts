import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { runGit } from "./run-git.js";

export interface Checkout {
  /** The working tree at the commit, with a standalone `.git` (no alternates, no token). */
  dir: string;
  /** Removes the working tree; safe to call twice. */
  remove(): Promise<void>;
}

/** Where one runner keeps its checkouts: `<dataDir>/checkouts/<runner name>`. */
export function checkoutsDir(dataDir: string, owner = "runner"): string {
  return join(dataDir, "checkouts", owner.replace(/[^A-Za-z0-9_.-]/g, "_"));
}

/**
 * Clones the mirror locally (objects hard-linked, so it is quick and the clone stands
 * alone inside a container) and checks out `sha` detached, under `checkoutsDir`.
 */
export async function checkoutCommit(
  mirror: string,
  sha: string,
  parent: string,
  label = "job",
): Promise<Checkout> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = join(parent, `${label.replace(/[^A-Za-z0-9_.-]/g, "_")}-${randomUUID().slice(0, 8)}`);
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // No templates: git's sample hooks are a dozen files every step would copy for nothing.
    await runGit(["clone", "--quiet", "--local", "--no-checkout", "--template=", mirror, dir]);
    // At once: they lock different files (HEAD and the index; the config and packed-refs).
    // The clone's origin is a host path, meaningless inside the container.
    await Promise.all([
      runGit(["-C", dir, "checkout", "--quiet", "--detach", sha]),
      runGit(["-C", dir, "remote", "remove", "origin"]),
    ]);
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}
