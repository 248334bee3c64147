import type { BuildRecord, JobRecord, LogChunk, SupersedeKey } from "./port.js";
import type { Item, ItemKey } from "./dynamodb-table.js";
import { StoreTooNewError } from "./store-rules.js";

// How each record lies in the one table: the key design of docs/queue-store.md.

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** Sort keys that order by creation time, then id. */
const byCreation = (prefix: string, createdAt: number, id: string) =>
  `${prefix}#${pad(createdAt, 15)}#${id}`;

/** The key of a record alone in its partition: `<TYPE>#<id>`, sort key `<TYPE>`. */
const singleKey = (type: string, id: string | number): ItemKey => ({
  pk: `${type}#${id}`,
  sk: type,
});
export const buildKey = (id: string) => singleKey("BUILD", id);
export const jobKey = (id: string) => singleKey("JOB", id);
export const installationKey = (id: number) => singleKey("INSTALLATION", id);
export const cacheImageKey = (imageId: string) => singleKey("CACHEIMAGE", imageId);
export const deliveryKey = (deliveryId: string) => singleKey("DELIVERY", deliveryId);
export const logPartition = (jobId: string) => `LOG#${jobId}`;
export const chunkKey = (seq: number) => `CHUNK#${pad(seq, 10)}`;
/** A job's log sections lie in a partition of their own, beside its chunks'. */
export const logSectionKey = (jobId: string, startSeq = 0, name = ""): ItemKey => ({
  pk: `LOGSECTIONS#${jobId}`,
  sk: `SECTION#${pad(startSeq, 10)}#${name}`,
});
export const buildsOfRepository = (repoId: number) => `REPO#${repoId}`;
export const buildsOfCommit = (repoId: number, sha: string) => `COMMIT#${repoId}#${sha}`;
export const jobsOfBuild = (buildId: string) => `BUILD#${buildId}`;
/** The gsi1 sort key below which a repository's builds made before `createdAt` lie. */
export const buildsBefore = (createdAt: number) => `BUILD#${pad(createdAt, 15)}`;

/** A record stored whole as JSON under `key`. */
export function recordItem(key: ItemKey, record: object): Item {
  return { ...key, data: JSON.stringify(record) };
}

/**
 * The shape of the JSON records (`data`) this code reads. An item without `fmt` is of
 * format 1 (every item so far). When a record's shape changes, its writer sets the new
 * format in `fmt` and recordOf turns the previous format's items into the new shape, so a
 * table written by the previous release reads on (docs/upgrading.md lists the changes).
 */
export const ITEM_FORMAT = 1;

export function recordOf<T>(item: Item): T {
  const format = typeof item.fmt === "number" ? item.fmt : 1;
  if (format > ITEM_FORMAT) {
    throw new StoreTooNewError(
      `DynamoDB item ${String(item.pk)} ${String(item.sk)} is of format ${format}, written by a newer Kozmic; ` +
        `this one reads up to format ${ITEM_FORMAT} (docs/upgrading.md#rollback)`,
    );
  }
  return JSON.parse(item.data as string) as T;
}

export function buildItem(build: BuildRecord): Item {
  const sortKey = byCreation("BUILD", build.createdAt, build.id);
  return {
    ...recordItem(buildKey(build.id), build),
    gsi1pk: buildsOfRepository(build.repoId),
    gsi1sk: sortKey,
    gsi2pk: buildsOfCommit(build.repoId, build.sha),
    gsi2sk: sortKey,
  };
}

/** A job at `version`: every change is written conditional on the version it read. */
export function jobItem(job: JobRecord, version: number): Item {
  return {
    ...recordItem(jobKey(job.id), job),
    gsi1pk: jobsOfBuild(job.buildId),
    gsi1sk: byCreation("JOB", job.createdAt, job.id),
    status: job.status,
    version,
  };
}

export function logChunkItem(chunk: LogChunk, expiresAt: number): Item {
  return {
    pk: logPartition(chunk.jobId),
    sk: chunkKey(chunk.seq),
    seq: chunk.seq,
    data: chunk.data,
    expiresAt,
    ...(chunk.at !== undefined ? { at: chunk.at } : {}),
  };
}

export function logChunkOf(jobId: string, item: Item): LogChunk {
  return {
    jobId,
    seq: item.seq as number,
    data: item.data as string,
    expiresAt: item.expiresAt as number,
    ...(typeof item.at === "number" ? { at: item.at } : {}),
  };
}

/** The newest job of a supersede line (repository, branch or pull request, hook). */
export function latestItem(key: SupersedeKey, sha: string, jobId: string, createdAt: number): Item {
  return {
    pk: `LATEST#${key.repoId}|${key.line}|${key.hook}`,
    sk: "LATEST",
    sha,
    jobId,
    createdAt,
  };
}

export function deliveryItem(deliveryId: string, expiresAt: number): Item {
  return { ...deliveryKey(deliveryId), expiresAt };
}
