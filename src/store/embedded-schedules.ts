import type { SqliteDatabase } from "./open-database.js";
import type { ScheduleOperations, ScheduleRecord } from "./port.js";

/** Schedule entries in the embedded SQLite file; `last_tick` beside the record, for the update. */
export function embeddedScheduleOperations(db: SqliteDatabase): ScheduleOperations {
  const q = {
    ofRepository: db.prepare("SELECT id FROM schedules WHERE repo_id = ?").pluck(),
    upsert: db.prepare(
      "INSERT INTO schedules (id, repo_id, last_tick, data) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
    ),
    remove: db.prepare("DELETE FROM schedules WHERE id = ?"),
    list: db.prepare("SELECT last_tick, data FROM schedules ORDER BY repo_id, id"),
    advance: db.prepare("UPDATE schedules SET last_tick = ? WHERE id = ? AND last_tick < ?"),
  };
  const replace = db.transaction((repoId: number, schedules: readonly ScheduleRecord[]) => {
    const kept = new Set(schedules.map((s) => s.id));
    for (const id of q.ofRepository.all(repoId) as string[]) {
      if (!kept.has(id)) q.remove.run(id);
    }
    for (const schedule of schedules) {
      const { lastTick, ...data } = schedule;
      q.upsert.run(schedule.id, repoId, lastTick, JSON.stringify(data));
    }
  });
  return {
    async replaceSchedules(repoId, schedules) {
      replace.immediate(repoId, schedules);
    },
    async listSchedules() {
      return (q.list.all() as { last_tick: number; data: string }[]).map((row) => ({
        ...(JSON.parse(row.data) as Omit<ScheduleRecord, "lastTick">),
        lastTick: row.last_tick,
      }));
    },
    async advanceSchedule(id, tick) {
      return q.advance.run(tick, id, tick).changes === 1;
    },
  };
}
