import assert from "node:assert/strict";
import { scheduleId, type ScheduleRecord } from "../../src/core/schedules.js";
import type { ScheduleOperations } from "../../src/store/port.js";

const T = Date.parse("2026-12-07T00:00:00Z");
const HOUR = 3_600_000;

function entry(repoId: number, cron: string, branch: string, lastTick: number): ScheduleRecord {
  return {
    id: scheduleId(repoId, cron, branch),
    repoId,
    repoFullName: `acme/r${repoId}`,
    repoPrivate: false,
    installationId: 7,
    cron,
    branch,
    lastTick,
  };
}

const byId = (list: ScheduleRecord[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));

/**
 * Schedule entries: replaced per repository (a kept entry keeps its last tick), listed
 * whole, and each tick advanced by exactly one of the timers that try it at once.
 */
export async function checkSchedules(store: ScheduleOperations): Promise<void> {
  const nightly = entry(1, "0 3 * * *", "main", T);
  const hourly = entry(1, "0 * * * *", "release", T);
  const other = entry(2, "0 3 * * *", "main", T);
  await store.replaceSchedules(1, [nightly, hourly]);
  await store.replaceSchedules(2, [other]);
  assert.deepEqual(byId(await store.listSchedules()), byId([nightly, hourly, other]));

  // Two timers fire the same tick: one advances it; an older tick or the same one changes nothing.
  const tick = T + 3 * HOUR;
  const tries = await Promise.all([1, 2, 3, 4].map(() => store.advanceSchedule(nightly.id, tick)));
  assert.equal(tries.filter(Boolean).length, 1, "exactly one timer fires a tick");
  assert.equal(await store.advanceSchedule(nightly.id, tick - HOUR), false);
  assert.equal(await store.advanceSchedule("no-such-schedule", tick), false);

  // The next push keeps the nightly entry (its tick too, whatever the push says), drops the
  // hourly one and adds a weekly one; the other repository's are untouched.
  const weekly = entry(1, "0 4 * * 1", "main", T + 5 * HOUR);
  await store.replaceSchedules(1, [
    { ...nightly, repoFullName: "acme/renamed", lastTick: T + 5 * HOUR },
    weekly,
  ]);
  assert.deepEqual(
    byId(await store.listSchedules()),
    byId([{ ...nightly, repoFullName: "acme/renamed", lastTick: tick }, weekly, other]),
  );
  assert.equal(await store.advanceSchedule(hourly.id, tick), false, "a removed entry never fires");

  await store.replaceSchedules(1, []);
  assert.deepEqual(await store.listSchedules(), [other]);
}
