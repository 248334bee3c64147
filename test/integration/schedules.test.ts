import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fireDueSchedules, type FiredTick } from "../../src/planner/fire-schedules.js";
import { lineLog } from "../../src/planner/planner-deps.js";
import { startScheduleTimer } from "../../src/planner/schedule-timer.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { BuildRecord } from "../../src/store/port.js";
import { AppHarness, assertHandled, newSha } from "../support/app-harness.js";
import { pushPayload, type TargetRepository } from "../support/webhooks.js";

const DAY = 86_400_000;
const quiet = lineLog(() => {});

const SCHEDULED_YML = [
  "schedule:",
  '  - cron: "0 3 * * *"',
  '  - cron: "30 4 * * 1"',
  "    branch: release",
  "hooks:",
  "  - name: nightly",
  "    image: alpine:3",
  "    build: make slow-tests",
  "    on: [schedule]",
  "  - name: test",
  "    image: alpine:3",
  "    build: make test",
  "    on: [push, pull_request]",
  "",
].join("\n");

/** The next 03:00 UTC after `t`. */
function nextThreeOClock(t: number): number {
  const day = new Date(t);
  day.setUTCHours(3, 0, 0, 0);
  return day.getTime() > t ? day.getTime() : day.getTime() + DAY;
}

describe("schedules: `schedule:` builds a branch's head at its times, once across processes", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start({ paceWrites: false });
  });
  after(() => h.stop());

  async function push(target: TargetRepository, sha: string, branch = "main") {
    assertHandled(await h.deliver("push", pushPayload(target, { sha, branch })));
  }

  /** The repository's builds made by its schedules. */
  async function scheduledBuilds(repoId: number): Promise<BuildRecord[]> {
    return (await h.store.listBuilds(repoId)).filter((b) => b.event === "schedule");
  }

  /** A second handle on the harness's data directory, as a second process would have. */
  function secondProcess() {
    const store = openEmbeddedStore({ dataDir: h.dir, retention: false });
    const planQueue = openEmbeddedQueue({
      dataDir: h.dir,
      name: "plans",
      kind: PLAN_MESSAGES,
      maxReceives: 40,
      log: () => {},
    });
    return {
      store,
      planQueue,
      close: async () => {
        await planQueue.close();
        await store.close();
      },
    };
  }

  it("a push to the default branch keeps its entries; other branches' pushes do not; dropped entries go", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": SCHEDULED_YML });
    const pushedAt = Date.now();
    await push(target, sha);
    const entries = (await h.store.listSchedules()).filter((s) => s.repoId === target.id);
    assert.deepEqual(entries.map((s) => [s.cron, s.branch]).sort(), [
      ["0 3 * * *", "main"],
      ["30 4 * * 1", "release"],
    ]);
    assert.ok(
      entries.every((s) => s.lastTick >= pushedAt),
      "a new entry starts from now",
    );

    const feature = newSha();
    h.fake.addCommit(target.fullName, feature, {
      ".github/kozmic.yml": "hooks:\n  - name: t\n    image: alpine:3\n    build: make\n",
    });
    await push(target, feature, "feature");
    assert.equal(
      (await h.store.listSchedules()).filter((s) => s.repoId === target.id).length,
      2,
      "only the default branch's configuration sets the schedules",
    );

    await push(target, feature);
    assert.deepEqual(
      (await h.store.listSchedules()).filter((s) => s.repoId === target.id),
      [],
    );
  });

  it("a tick builds the branch's head, only the hooks that run on schedule, with their check runs; two timers fire it once", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": SCHEDULED_YML });
    await push(target, sha);
    await h.drain();
    // The branch moves on after the push that set the schedule: the tick builds its head.
    const head = newSha();
    h.fake.addCommit(target.fullName, head, { ".github/kozmic.yml": SCHEDULED_YML }, "main");

    const tick = nextThreeOClock(Date.now() + DAY);
    const other = secondProcess();
    const timers = [
      startScheduleTimer({ store: h.store, planQueue: h.planQueue, now: () => tick, log: quiet }),
      startScheduleTimer({
        store: other.store,
        planQueue: other.planQueue,
        now: () => tick + 1_000,
        log: quiet,
      }),
    ];
    try {
      // Each fires at start.
      const passes = await Promise.all(timers.map(async (t) => (await t.lastPass())!));
      assert.equal(passes.filter((p) => p.holder).length, 1, "one timer holds the lease");
      const fired = passes
        .flatMap((p) => p.fired)
        .filter((f) => f.repoFullName === target.fullName);
      assert.deepEqual(
        fired.map((f) => [f.branch, new Date(f.tick).toISOString(), f.outcome]),
        [["main", new Date(tick).toISOString(), "enqueued"]],
      );
    } finally {
      for (const timer of timers) await timer.stop();
      await other.close();
    }

    await h.app.idle();
    const builds = await scheduledBuilds(target.id);
    assert.equal(builds.length, 1);
    assert.equal(builds[0]!.sha, head);
    assert.equal(builds[0]!.ref, "refs/heads/main");
    assert.equal(builds[0]!.trigger, "0 3 * * *");
    const runs = h.fake.checkRunsOf(target.fullName, head);
    assert.deepEqual(
      runs.map((r) => [r.name, r.status]),
      [["nightly", "queued"]],
    );
    const messages = await h.drain();
    assert.deepEqual(
      messages.map((m) => [(m.hook as { name: string }).name, m.event, m.sha]),
      [["nightly", "schedule", head]],
    );
    assert.deepEqual(h.fake.violations, []);
  });

  it("ticks missed while every process was down fire once, the latest, on start", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": SCHEDULED_YML });
    await push(target, sha);
    await h.drain();
    // Down for three days and a bit: three 03:00 ticks passed.
    const restart = nextThreeOClock(Date.now()) + 2 * DAY + 3_600_000;
    let now = restart;
    const timer = startScheduleTimer({
      store: h.store,
      planQueue: h.planQueue,
      now: () => now,
      log: quiet,
    });
    const ofTarget = (fired: FiredTick[]) =>
      fired.filter((f) => f.repoFullName === target.fullName);
    try {
      // The pass at start fired the latest missed tick; a pass again fires nothing.
      const builds = await h.eventually("the build of the missed tick", async () => {
        await h.app.idle();
        const made = await scheduledBuilds(target.id);
        return made.length > 0 && made;
      });
      assert.equal(builds.length, 1, "one build for the stretch, not one per missed tick");
      assert.deepEqual(ofTarget((await timer.pass()).fired), []);
      // The next day's tick fires once more.
      now = restart + DAY;
      assert.deepEqual(
        ofTarget((await timer.pass()).fired).map((f) => new Date(f.tick).toISOString()),
        [new Date(restart - 3_600_000 + DAY).toISOString()],
      );
    } finally {
      await timer.stop();
    }
    await h.app.idle();
    assert.equal((await scheduledBuilds(target.id)).length, 2);
    await h.drain();
  });

  it("two processes firing the same tick at once, without the lease, hand it to the planner once", async () => {
    const { target, sha } = h.repository({ ".github/kozmic.yml": SCHEDULED_YML });
    await push(target, sha);
    await h.drain();
    const tick = nextThreeOClock(Date.now() + DAY);
    const go = join(h.dir, `go-${target.id}`);
    const child = new URL("../support/fire-schedules-child.ts", import.meta.url).pathname;
    const runs = [1, 2, 3].map(
      () =>
        new Promise<FiredTick[]>((resolve, reject) => {
          const p = spawn(process.execPath, ["--import", "tsx", child, h.dir, String(tick), go], {
            stdio: ["ignore", "pipe", "inherit"],
          });
          let out = "";
          p.stdout.on("data", (d: Buffer) => (out += d.toString()));
          p.on("exit", (code) =>
            code === 0
              ? resolve(JSON.parse(out) as FiredTick[])
              : reject(new Error(`exit ${code}`)),
          );
        }),
    );
    writeFileSync(go, "");
    const fired = (await Promise.all(runs))
      .flat()
      .filter((f) => f.repoFullName === target.fullName);
    // One hands it over; the others find it handed over (or, listing later, already past).
    assert.deepEqual(
      fired.filter((f) => f.outcome === "enqueued").map((f) => f.tick),
      [tick],
    );
    assert.ok(fired.every((f) => f.tick === tick));
    await h.app.idle();
    assert.equal((await scheduledBuilds(target.id)).length, 1);
    // Fired from now on: the same tick again is nothing new.
    const again = await fireDueSchedules({
      store: h.store,
      planQueue: h.planQueue,
      now: () => tick,
      log: quiet,
    });
    assert.deepEqual(
      again.filter((f) => f.repoFullName === target.fullName),
      [],
    );
    await h.drain();
  });

  it("a schedule of a branch that is gone plans nothing", async () => {
    const { target, sha } = h.repository({
      ".github/kozmic.yml": SCHEDULED_YML.replace("branch: release", "branch: gone"),
    });
    await push(target, sha);
    const tick = Date.parse("2030-01-07T04:30:00Z"); // a Monday
    const fired = await fireDueSchedules({
      store: h.store,
      planQueue: h.planQueue,
      now: () => tick,
      log: quiet,
    });
    assert.deepEqual(
      fired
        .filter((f) => f.repoFullName === target.fullName)
        .map((f) => f.branch)
        .sort(),
      ["gone", "main"],
    );
    await h.app.idle();
    const builds = await scheduledBuilds(target.id);
    assert.deepEqual(
      builds.map((b) => b.ref),
      ["refs/heads/main"],
    );
    await h.drain();
  });
});
