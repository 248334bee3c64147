import { isFinal } from "../core/job-state.js";
import { buildKey, jobKey, jobsOfBuild, recordOf } from "./dynamodb-items.js";
import type { DynamoTable } from "./dynamodb-table.js";
import type { BuildRecord, JobRecord } from "./port.js";
import { buildExpiresAt } from "./retention-rules.js";

/**
 * Builds and their jobs expire as in the embedded store (retention-rules.ts): `retentionS`
 * after the last of the build's jobs ended, never while one is queued or running. Called
 * after a job's change to an ended status; the table's TTL then deletes the build and its
 * jobs together. The index lists the build's jobs (made with the build, long before one
 * ends); each is read again from its own item, so a job that ended a moment ago is seen so.
 */
export async function expireEndedBuild(
  table: DynamoTable,
  buildId: string,
  retentionS: number,
): Promise<void> {
  const buildItem = await table.get("get build", buildKey(buildId), true);
  if (!buildItem) return;
  const listed = await table.queryAll("list jobs of build", {
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :p",
    ExpressionAttributeValues: { ":p": jobsOfBuild(buildId) },
  });
  const jobs: JobRecord[] = [];
  for (const item of listed) {
    const current = await table.get("get job", jobKey(recordOf<JobRecord>(item).id), true);
    if (!current) continue;
    const job = recordOf<JobRecord>(current);
    if (!isFinal(job.status)) return;
    jobs.push(job);
  }
  const at = buildExpiresAt(recordOf<BuildRecord>(buildItem).createdAt, jobs, retentionS);
  if (at === null) return;
  for (const job of jobs) await table.expireAt("expire job", jobKey(job.id), at);
  await table.expireAt("expire build", buildKey(buildId), at);
}
