import { checkoutCommit, checkoutsDir, type Checkout } from "./checkout-commit.js";
import { updateMirror, type MirrorRequest } from "./git-mirror.js";

/** How a runner gets a job's commit: fetchSource, or a test's stand-in. */
export type SourceFetcher = typeof fetchSource;

/**
 * The job's commit in a temporary working tree: fetched into the host's mirror of the
 * repository (token in git's environment only), then cloned locally without the token.
 */
export async function fetchSource(
  request: MirrorRequest & {
    jobId: string;
    /** Checkouts are grouped by runner, so a restart can remove what its last life left. */
    runnerName?: string;
  },
): Promise<Checkout> {
  const mirror = await updateMirror(request);
  return checkoutCommit(
    mirror,
    request.sha,
    checkoutsDir(request.dataDir, request.runnerName),
    request.jobId,
  );
}
