import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { embeddedBackend, FleetScene, type FleetBackend } from "../support/fleet.js";

const THROTTLED = 1;
const HEALTHY = 2;
const RUNNERS = 4;
/** GitHub's secondary limit as the runner meets it in production, scaled to test time. */
const GITHUB = { attempts: 6, retryBaseMs: 200 };
/** Octokit's own tries of a rate-limited request (create-installation-octokit.ts). */
const OCTOKIT_TRIES = 1 + 3;

/**
 * GitHub's secondary rate limit hit for one installation: every check-run write of its
 * repository answered 403 with `retry-after` and the secondary-limit message, until the
 * test lifts it. Its jobs are queued first, ahead of the other installation's. Expected:
 * the other installation's jobs all complete while the limit holds (its runs are not
 * held behind the throttled reports: a slot is free once the job's end is recorded), the
 * throttled installation's reports wait in one lane per runner (a bounded number of
 * requests, not one retry loop per job), and once the limit lifts every job of both
 * installations is reported exactly once.
 */
describe("back-pressure: one installation rate-limited by GitHub", () => {
  let backend: FleetBackend;
  let scene: FleetScene;
  before(async () => {
    backend = embeddedBackend();
    scene = await FleetScene.start([THROTTLED, HEALTHY]);
  });
  after(async () => {
    await scene?.close();
    await backend?.close();
  });

  it("other installations' jobs keep completing; the throttled one's wait their turn", async (t) => {
    const throttledWrites = { method: "PATCH", path: new RegExp(`^/repos/fleet-${THROTTLED}/`) };
    scene.fake.rateLimitNext(Number.POSITIVE_INFINITY, 1, { match: throttledWrites });
    const throttled = await scene.enqueue(backend, 8, THROTTLED);
    const healthy = await scene.enqueue(backend, 16, HEALTHY);
    scene.startRunners(backend, RUNNERS, {
      github: { ...GITHUB, octokitOptions: { paceWrites: false, retryAfterBaseValue: 200 } },
    });

    await scene.untilCompleted(healthy, 120_000);
    const limited = scene.fake.requests.filter(
      (r) => r.status === 403 && r.path.startsWith(`/repos/fleet-${THROTTLED}/`),
    ).length;
    t.diagnostic(`${limited} rate-limited requests of the throttled installation so far`);
    assert.equal(scene.completed(throttled), 0, "the throttled installation's runs stay open");
    assert.ok(limited > 0, "the throttled installation was refused");
    // The healthy installation finished while the throttled one's first report in each
    // runner's lane was still being retried: none was given up yet.
    assert.deepEqual(
      scene.warnings.filter((line) => /not yet reported/.test(line)),
      [],
      "a throttled report was given up before the other installation's jobs were done",
    );
    // One report at a time per runner: at most one report's tries per runner's lane.
    assert.ok(limited <= RUNNERS * GITHUB.attempts * OCTOKIT_TRIES, `${limited} requests`);
    // Every throttled job ran and recorded its end: only its report waits.
    for (const id of throttled) {
      assert.equal((await backend.store.getJob(id))?.status, "completed", id);
    }

    scene.fake.clearFailures();
    await scene.untilCompleted(throttled, 120_000);
    await scene.stopRunners();
    const all = [...throttled, ...healthy];
    const tally = scene.tally(all);
    assert.deepEqual(tally.notRunOnce, []);
    assert.deepEqual(tally.notClaimedOnce, []);
    assert.deepEqual(tally.notReportedOnce, []);
    for (const id of all) {
      assert.ok((await backend.store.getJob(id))?.reportedAt !== undefined, `${id} reported`);
    }
  });
});
