import { recordOf } from "./dynamodb-items.js";
import type { DynamoTable, ItemKey } from "./dynamodb-table.js";
import type { ScheduleOperations, ScheduleRecord } from "./port.js";

// One item per schedule entry, found by its id; every entry is also on gsi1 under one
// partition key (the timer reads it whole), sorted by repository.
const scheduleKey = (id: string): ItemKey => ({ pk: `SCHEDULE#${id}`, sk: "SCHEDULE" });
const SCHEDULES = "SCHEDULES";
const repositoryPrefix = (repoId: number) => `${String(repoId).padStart(20, "0")}#`;

/** Schedule entries on the store's DynamoDB table; `lastTick` beside the record, for the update. */
export function dynamoScheduleOperations(table: DynamoTable): ScheduleOperations {
  const list = (prefix?: string) =>
    table.queryAll("list schedules", {
      IndexName: "gsi1",
      ...(prefix === undefined
        ? {
            KeyConditionExpression: "gsi1pk = :p",
            ExpressionAttributeValues: { ":p": SCHEDULES },
          }
        : {
            KeyConditionExpression: "gsi1pk = :p AND begins_with(gsi1sk, :s)",
            ExpressionAttributeValues: { ":p": SCHEDULES, ":s": prefix },
          }),
    });
  return {
    async replaceSchedules(repoId, schedules) {
      const kept = new Set(schedules.map((s) => s.id));
      for (const item of await list(repositoryPrefix(repoId))) {
        const { id } = recordOf<ScheduleRecord>(item);
        if (!kept.has(id)) await table.delete("remove schedule", scheduleKey(id));
      }
      for (const schedule of schedules) {
        const { lastTick, ...data } = schedule;
        // A kept entry keeps the tick it fired last.
        await table.update("put schedule", {
          Key: scheduleKey(schedule.id),
          UpdateExpression:
            "SET #data = :data, gsi1pk = :p, gsi1sk = :s, lastTick = if_not_exists(lastTick, :t)",
          ExpressionAttributeNames: { "#data": "data" },
          ExpressionAttributeValues: {
            ":data": JSON.stringify(data),
            ":p": SCHEDULES,
            ":s": `${repositoryPrefix(repoId)}${schedule.id}`,
            ":t": lastTick,
          },
        });
      }
    },
    async listSchedules() {
      return (await list()).map((item) => ({
        ...recordOf<Omit<ScheduleRecord, "lastTick">>(item),
        lastTick: item.lastTick as number,
      }));
    },
    async advanceSchedule(id, tick) {
      return table.update("advance schedule", {
        Key: scheduleKey(id),
        UpdateExpression: "SET lastTick = :t",
        ConditionExpression: "attribute_exists(pk) AND lastTick < :t",
        ExpressionAttributeValues: { ":t": tick },
      });
    },
  };
}
