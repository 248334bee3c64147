import Bottleneck from "bottleneck";

/** Writes one installation may make at once after a quiet spell. */
export const WRITE_BURST = 10;
/** Sustained writes a second per installation, as GitHub asks of integrations. */
export const WRITES_PER_SECOND = 1;

/**
 * Octokit's write limiter for production: per installation (the throttle id), a bucket of
 * WRITE_BURST writes refilled one a second, in place of Octokit's fixed second between any
 * two writes. Sustained, it is GitHub's pace; in any minute at most 10 + 60 = 70 writes
 * leave, under the 80 content-creating requests a minute GitHub's secondary limits allow.
 * What it buys: a job's completion, or a push's few check runs, no longer wait a second
 * behind the write before them. One group per process, shared by every Octokit, like
 * Octokit's own.
 */
export const pacedWrites = new Bottleneck.Group({
  maxConcurrent: 1,
  minTime: 0,
  reservoir: WRITE_BURST,
  reservoirIncreaseAmount: WRITES_PER_SECOND,
  reservoirIncreaseInterval: 1000,
  reservoirIncreaseMaximum: WRITE_BURST,
});

/** No pacing at all: for tests against a fake GitHub. */
export const unpacedWrites = () => new Bottleneck.Group({ maxConcurrent: 10, minTime: 0 });
