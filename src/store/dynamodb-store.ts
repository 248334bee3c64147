import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError } from "../core/errors.js";
import {
  buildItem,
  buildKey,
  buildsBefore,
  buildsOfCommit,
  buildsOfRepository,
  cacheImageKey,
  chunkKey,
  deliveryItem,
  deliveryKey,
  installationKey,
  jobItem,
  jobsOfBuild,
  latestItem,
  logChunkItem,
  logChunkOf,
  logPartition,
  logSectionKey,
  recordItem,
  recordOf,
} from "./dynamodb-items.js";
import { dynamoLeaseOperations } from "./dynamodb-leases.js";
import { jobOperations, leaseOperations } from "./dynamodb-jobs.js";
import { dynamoSecretOperations } from "./dynamodb-secrets.js";
import { dynamoSessionOperations } from "./dynamodb-sessions.js";
import { dynamoScheduleOperations } from "./dynamodb-schedules.js";
import { DynamoTable, type ItemKey } from "./dynamodb-table.js";
import { assertChunkSize } from "./log-chunk-size.js";
import type {
  BuildRecord,
  CacheImageRecord,
  InstallationRecord,
  JobRecord,
  LogSectionRecord,
  Store,
} from "./port.js";

export interface DynamoStoreOptions {
  /** Destroy `client` on close (it was made for this adapter alone). */
  ownsClient?: boolean;
  table: string;
  client?: DynamoDBClient;
  logRetentionDays?: number;
  deliveryRetentionSeconds?: number;
}

const DAY_S = 86_400;
const nowSeconds = (now = Date.now()) => Math.floor(now / 1000);

/**
 * The Store on one DynamoDB table (key design in docs/queue-store.md and dynamodb-items.ts).
 * Jobs carry a version number; every change is a Put conditional on the version that was read.
 */
export function openDynamoStore(options: DynamoStoreOptions): Store {
  const raw = options.client ?? new DynamoDBClient({});
  const table = new DynamoTable(DynamoDBDocumentClient.from(raw), options.table);
  const retentionS = (options.logRetentionDays ?? 30) * DAY_S;
  return {
    ...buildOperations(table),
    ...jobOperations(table, retentionS),
    ...leaseOperations(table),
    ...supersedeOperations(table),
    ...logOperations(table, retentionS),
    ...deliveryOperations(table, options.deliveryRetentionSeconds ?? 7 * DAY_S),
    ...recordOperations(table),
    ...dynamoLeaseOperations(table),
    ...dynamoSecretOperations(table),
    ...dynamoSessionOperations(table),
    ...dynamoScheduleOperations(table),
    async close() {
      if (!options.client || options.ownsClient) raw.destroy();
    },
  };
}

/** Builds with their jobs, written together; listed by repository, commit and build. */
function buildOperations(
  table: DynamoTable,
): Pick<Store, "createBuild" | "getBuild" | "findBuildsByCommit" | "listBuilds" | "listJobs"> {
  const queryRecords = async <T>(input: Parameters<DynamoTable["query"]>[1]) =>
    (await table.query("query", input)).map((item) => recordOf<T>(item));
  return {
    async createBuild(build, jobs) {
      try {
        await table.putAllNew("create build", [
          buildItem(build),
          ...jobs.map((job) => jobItem(job, 0)),
        ]);
      } catch (error) {
        if (!isConditionCancellation(error)) throw error;
        throw new ConflictError(`build ${build.id} or one of its jobs already exists`, {
          cause: error,
        });
      }
    },
    async getBuild(id) {
      const item = await table.get("get build", buildKey(id), false);
      return item ? recordOf<BuildRecord>(item) : undefined;
    },
    async findBuildsByCommit(repoId, sha) {
      return queryRecords<BuildRecord>({
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :p",
        ExpressionAttributeValues: { ":p": buildsOfCommit(repoId, sha) },
      });
    },
    async listBuilds(repoId, opts = {}) {
      return queryRecords<BuildRecord>({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p AND gsi1sk < :before",
        ExpressionAttributeValues: {
          ":p": buildsOfRepository(repoId),
          ":before": buildsBefore(opts.before ?? 999_999_999_999_999),
        },
        ScanIndexForward: false,
        Limit: opts.limit ?? 50,
      });
    },
    async listJobs(buildId) {
      return queryRecords<JobRecord>({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": jobsOfBuild(buildId) },
      });
    },
  };
}

/** A transaction cancelled because an item it would create already exists. */
function isConditionCancellation(error: unknown): boolean {
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.some((reason) => reason.Code === "ConditionalCheckFailed") ?? false;
}

/** The newest job of each supersede line, swapped in one conditional Put. */
function supersedeOperations(table: DynamoTable): Pick<Store, "recordLatest"> {
  return {
    async recordLatest(key, sha, jobId, createdAt) {
      const out = await table.putIf("record latest", {
        Item: latestItem(key, sha, jobId, createdAt),
        ConditionExpression: "attribute_not_exists(pk) OR createdAt <= :c",
        ExpressionAttributeValues: { ":c": createdAt },
        ReturnValues: "ALL_OLD",
      });
      const previous = out?.Attributes?.jobId as string | undefined;
      return previous && previous !== jobId ? [previous] : [];
    },
  };
}

/** Log chunks, one item each under the job's partition, expiring after `retentionS`. */
function logOperations(
  table: DynamoTable,
  retentionS: number,
): Pick<Store, "appendLog" | "readLog" | "putLogSection" | "readLogSections"> {
  return {
    async appendLog(chunk) {
      assertChunkSize(chunk);
      // An existing seq is a retried append: the condition failing is the expected outcome.
      await table.putIf("append log", {
        Item: logChunkItem(chunk, nowSeconds() + retentionS),
        ConditionExpression: "attribute_not_exists(pk)",
      });
    },
    async readLog(jobId, fromSeq = 0, limit = 1000) {
      const items = await table.query("read log", {
        KeyConditionExpression: "pk = :p AND sk >= :from",
        ExpressionAttributeValues: { ":p": logPartition(jobId), ":from": chunkKey(fromSeq) },
        ConsistentRead: true,
        Limit: limit,
      });
      return items.map((item) => logChunkOf(jobId, item));
    },
    async putLogSection(section) {
      await table.put("record a log section", {
        ...recordItem(logSectionKey(section.jobId, section.startSeq, section.name), section),
        expiresAt: nowSeconds() + retentionS,
      });
    },
    async readLogSections(jobId) {
      const items = await table.query("read log sections", {
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": logSectionKey(jobId).pk },
        ConsistentRead: true,
      });
      return items
        .map((item) => recordOf<LogSectionRecord>(item))
        .sort((a, b) => a.startSeq - b.startSeq || a.startedAt - b.startedAt);
    },
  };
}

/** Webhook delivery ids seen in the last `retentionS`, so a redelivery is processed once. */
function deliveryOperations(
  table: DynamoTable,
  retentionS: number,
): Pick<Store, "recordDelivery" | "hasDelivery" | "forgetDelivery"> {
  return {
    async recordDelivery(deliveryId, now = Date.now()) {
      const nowS = nowSeconds(now);
      const out = await table.putIf("record delivery", {
        Item: deliveryItem(deliveryId, nowS + retentionS),
        // TTL deletion lags by up to days: an expired item counts as absent.
        ConditionExpression: "attribute_not_exists(pk) OR expiresAt <= :now",
        ExpressionAttributeValues: { ":now": nowS },
      });
      return out !== undefined;
    },
    async hasDelivery(deliveryId, now = Date.now()) {
      const item = await table.get("read delivery", deliveryKey(deliveryId), true);
      return item !== undefined && (item.expiresAt as number) > nowSeconds(now);
    },
    async forgetDelivery(deliveryId) {
      await table.delete("forget delivery", deliveryKey(deliveryId));
    },
  };
}

/** Installations and committed cache images: whole records under fixed keys. */
function recordOperations(
  table: DynamoTable,
): Pick<
  Store,
  | "putInstallation"
  | "getInstallation"
  | "deleteInstallation"
  | "recordCacheImage"
  | "getCacheImage"
> {
  const getRecord = async <T>(what: string, key: ItemKey) => {
    const item = await table.get(what, key, true);
    return item ? recordOf<T>(item) : undefined;
  };
  return {
    async putInstallation(installation) {
      await table.put(
        "put installation",
        recordItem(installationKey(installation.id), installation),
      );
    },
    async getInstallation(id) {
      return getRecord<InstallationRecord>("get installation", installationKey(id));
    },
    async deleteInstallation(id) {
      await table.delete("delete installation", installationKey(id));
    },
    async recordCacheImage(record) {
      await table.put("record cache image", recordItem(cacheImageKey(record.imageId), record));
    },
    async getCacheImage(imageId) {
      return getRecord<CacheImageRecord>("get cache image", cacheImageKey(imageId));
    },
  };
}

/**
 * Creates the table with its two indexes and turns on TTL on `expiresAt`. Safe to run
 * again; waits until the table is active.
 */
export async function ensureDynamoTable(client: DynamoDBClient, table: string): Promise<void> {
  const S = "S" as const;
  const index = (n: number) => ({
    IndexName: `gsi${n}`,
    KeySchema: [
      { AttributeName: `gsi${n}pk`, KeyType: "HASH" as const },
      { AttributeName: `gsi${n}sk`, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].map((name) => ({
          AttributeName: name,
          AttributeType: S,
        })),
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [index(1), index(2)],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== "ResourceInUseException") throw error;
  }
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    if (out.Table?.TableStatus === "ACTIVE") break;
    await sleep(200);
  }
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      }),
    )
    .catch((error: Error) => {
      // Already enabled: DynamoDB refuses to enable it twice.
      if (!/already enabled/i.test(error.message)) throw error;
    });
}
