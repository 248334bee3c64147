import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { updateMirror, type MirrorRequest } from "./git-mirror.js";
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

/** How a runner gets a job's commit: fetchSource, or a test's stand-in. */
export type SourceFetcher = typeof fetchSource;

/**
 * The job's commit in a temporary working tree: fetched into the host's mirror of the
 * repository (token in git's environment only), then cloned locally without the token
 * (objects hard-linked, so it is quick and the clone stands alone inside a container) and
 * checked out detached, under `checkoutsDir`.
 */
export async function fetchSource(
  request: MirrorRequest & {
    jobId: string;
    /** Checkouts are grouped by runner, so a restart can remove what its last life left. */
    runnerName?: string;
  },
): Promise<Checkout> {
  const mirror = await updateMirror(request);
  const parent = checkoutsDir(request.dataDir, request.runnerName);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const label = request.jobId.replace(/[^A-Za-z0-9_.-]/g, "_");
  const dir = join(parent, `${label}-${randomUUID().slice(0, 8)}`);
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // No templates: git's sample hooks are a dozen files every step would copy for nothing.
    await runGit(["clone", "--quiet", "--local", "--no-checkout", "--template=", mirror, dir]);
    // At once: they lock different files (HEAD and the index; the config and packed-refs).
    // The clone's origin is a host path, meaningless inside the container.
    await Promise.all([
      runGit(["-C", dir, "checkout", "--quiet", "--detach", request.sha]),
      runGit(["-C", dir, "remote", "remove", "origin"]),
    ]);
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}
