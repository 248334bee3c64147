import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError } from "../core/errors.js";
import type { DynamoSettings } from "../settings/storage-settings.js";
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
import { jobOperations, leaseOperations } from "./dynamodb-jobs.js";
import { DynamoTable, type ItemKey } from "./dynamodb-table.js";
import { assertChunkSize } from "./store-rules.js";
import type {
  BuildRecord,
  CacheImageRecord,
  InstallationRecord,
  JobRecord,
  LogSectionRecord,
  RepositoryKeyRecord,
  ScheduleOperations,
  ScheduleRecord,
  SecretOperations,
  SecretRecord,
  Store,
} from "./port.js";

export interface DynamoStoreOptions {
  /** Destroy `client` on close (it was made for this adapter alone). */
  ownsClient?: boolean;
  table: string;
  client: DynamoDBClient;
  logRetentionDays?: number;
  deliveryRetentionSeconds?: number;
}

const DAY_S = 86_400;
const nowSeconds = (now = Date.now()) => Math.floor(now / 1000);

/** The record stored whole under `key`, if there is one. */
async function getRecord<T>(table: DynamoTable, what: string, key: ItemKey, consistent = true) {
  const item = await table.get(what, key, consistent);
  return item ? recordOf<T>(item) : undefined;
}

/**
 * The Store on one DynamoDB table (key design in docs/queue-store.md and dynamodb-items.ts).
 * Jobs carry a version number; every change is a Put conditional on the version that was read.
 */
export function openDynamoStore(options: DynamoStoreOptions): Store {
  const table = new DynamoTable(DynamoDBDocumentClient.from(options.client), options.table);
  const retentionS = (options.logRetentionDays ?? 30) * DAY_S;
  return {
    ...buildOperations(table),
    ...jobOperations(table, retentionS),
    ...leaseOperations(table),
    ...supersedeOperations(table),
    ...logOperations(table, retentionS),
    ...deliveryOperations(table, options.deliveryRetentionSeconds ?? 7 * DAY_S),
    ...recordOperations(table),
    ...namedLeaseOperations(table),
    ...dynamoSecretOperations(table),
    ...dynamoSessionOperations(table),
    ...dynamoScheduleOperations(table),
    async close() {
      if (options.ownsClient) options.client.destroy();
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
      return getRecord<BuildRecord>(table, "get build", buildKey(id), false);
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
  return {
    async putInstallation(installation) {
      await table.put(
        "put installation",
        recordItem(installationKey(installation.id), installation),
      );
    },
    async getInstallation(id) {
      return getRecord<InstallationRecord>(table, "get installation", installationKey(id));
    },
    async deleteInstallation(id) {
      await table.delete("delete installation", installationKey(id));
    },
    async recordCacheImage(record) {
      await table.put("record cache image", recordItem(cacheImageKey(record.imageId), record));
    },
    async getCacheImage(imageId) {
      return getRecord<CacheImageRecord>(table, "get cache image", cacheImageKey(imageId));
    },
  };
}

// "CACHELEASE" from when the fleet cache was the one user: tables in use hold such items.
const leaseKey = (key: string): ItemKey => ({ pk: `CACHELEASE#${key}`, sk: "CACHELEASE" });
/**
 * `owner`'s lease of `key` until `until` (epoch ms; 0: released). The item outlives `keptFrom`
 * by a day, then DynamoDB's TTL removes it.
 */
const leaseItem = (key: string, owner: string, until: number, keptFrom: number) => ({
  ...leaseKey(key),
  leaseOwner: owner,
  leaseExpiresAt: until,
  expiresAt: Math.ceil(keptFrom / 1000) + DAY_S,
});

/**
 * Named leases (a cache key being installed, the schedule timer, a delivery being planned),
 * as conditional writes on the store's table.
 */
function namedLeaseOperations(table: DynamoTable): Pick<Store, "acquireLease" | "releaseLease"> {
  return {
    async acquireLease(key, owner, leaseMs, now = Date.now()) {
      const expiresAt = now + leaseMs;
      for (;;) {
        const written = await table.putIf("acquire lease", {
          Item: leaseItem(key, owner, expiresAt, expiresAt),
          ConditionExpression:
            "attribute_not_exists(pk) OR leaseOwner = :owner OR leaseExpiresAt <= :now",
          ExpressionAttributeValues: { ":owner": owner, ":now": now },
        });
        if (written) return { acquired: true, expiresAt };
        const held = await table.get("read lease", leaseKey(key), true);
        // Released between the write and the read: try again.
        if (!held) continue;
        const heldUntil = held.leaseExpiresAt as number;
        if (heldUntil <= now || held.leaseOwner === owner) continue;
        return { acquired: false, owner: held.leaseOwner as string, expiresAt: heldUntil };
      }
    },
    async releaseLease(key, owner) {
      // An expired lease is a released one: written only while `owner` still holds it.
      await table.putIf("release lease", {
        Item: leaseItem(key, owner, 0, Date.now()),
        ConditionExpression: "leaseOwner = :owner",
        ExpressionAttributeValues: { ":owner": owner },
      });
    },
  };
}

// A repository's secrets and its data key share one partition; every data key is also on
// gsi1 under one partition key, which rotation reads whole.
const partition = (repoId: number) => `SECRETS#${repoId}`;
const secretKey = (repoId: number, name: string): ItemKey => ({
  pk: partition(repoId),
  sk: `SECRET#${name}`,
});
const dataKeyKey = (repoId: number): ItemKey => ({ pk: partition(repoId), sk: "DATAKEY" });
const DATA_KEYS = "DATAKEYS";

/** Repository secrets (sealed) and data keys (wrapped) on the store's DynamoDB table. */
function dynamoSecretOperations(table: DynamoTable): SecretOperations {
  return {
    async putSecret(record) {
      await table.put("put secret", recordItem(secretKey(record.repoId, record.name), record));
    },
    async deleteSecret(repoId, name) {
      return table.delete("delete secret", secretKey(repoId, name));
    },
    async listSecrets(repoId) {
      const items = await table.queryAll("list secrets", {
        KeyConditionExpression: "pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues: { ":p": partition(repoId), ":s": "SECRET#" },
        ConsistentRead: true,
      });
      return items.map((item) => recordOf<SecretRecord>(item));
    },
    async getRepositoryKey(repoId) {
      return getRecord<RepositoryKeyRecord>(table, "get repository key", dataKeyKey(repoId));
    },
    async putRepositoryKey(record, replacing) {
      const out = await table.putIf("put repository key", {
        Item: {
          ...recordItem(dataKeyKey(record.repoId), record),
          wrappedKey: record.wrappedKey,
          gsi1pk: DATA_KEYS,
          gsi1sk: `DATAKEY#${String(record.repoId).padStart(20, "0")}`,
        },
        ...(replacing === undefined
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : {
              ConditionExpression: "wrappedKey = :old",
              ExpressionAttributeValues: { ":old": replacing },
            }),
      });
      if (!out) {
        throw new ConflictError(
          `repository ${record.repoId}: its data key changed meanwhile (another writer)`,
        );
      }
    },
    async listRepositoryKeys() {
      const items = await table.queryAll("list repository keys", {
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": DATA_KEYS },
      });
      return items.map((item) => recordOf<RepositoryKeyRecord>(item));
    },
  };
}

const sessionKey = (sessionId: string): ItemKey => ({ pk: `SESSION#${sessionId}`, sk: "REVOKED" });

/**
 * Revoked sign-in sessions on the store's DynamoDB table. `until` is kept in ms and, as
 * `expiresAt` in seconds, lets the table's TTL delete the item once the session is over.
 */
function dynamoSessionOperations(
  table: DynamoTable,
): Pick<Store, "revokeSession" | "isSessionRevoked"> {
  return {
    async revokeSession(sessionId, until) {
      await table.put("revoke session", {
        ...sessionKey(sessionId),
        until,
        expiresAt: Math.ceil(until / 1000),
      });
    },
    async isSessionRevoked(sessionId, now = Date.now()) {
      // Consistent: a logout on one instance holds on the next request to any other.
      const item = await table.get("read session revocation", sessionKey(sessionId), true);
      // TTL deletion lags by up to days: an expired item counts as absent.
      return item !== undefined && typeof item.until === "number" && item.until > now;
    },
  };
}

// One item per schedule entry, found by its id; every entry is also on gsi1 under one
// partition key (the timer reads it whole), sorted by repository.
const scheduleKey = (id: string): ItemKey => ({ pk: `SCHEDULE#${id}`, sk: "SCHEDULE" });
const SCHEDULES = "SCHEDULES";
const repositoryPrefix = (repoId: number) => `${String(repoId).padStart(20, "0")}#`;

/** Schedule entries on the store's DynamoDB table; `lastTick` beside the record, for the update. */
function dynamoScheduleOperations(table: DynamoTable): ScheduleOperations {
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

/**
 * The DynamoDB store of settings already read, with a client of its own. Apart from
 * open-store.ts so that the Lambda bundle, which never opens the embedded store, leaves
 * SQLite out.
 */
export function dynamoStoreFrom(settings: DynamoSettings): Store {
  return openDynamoStore({
    client: new DynamoDBClient({ region: settings.region, endpoint: settings.endpoint }),
    ownsClient: true,
    table: settings.table,
    logRetentionDays: settings.logRetentionDays,
  });
}

/**
 * Creates the table with its two indexes and turns on TTL on `expiresAt`. Safe to run
 * again; waits until the table is active.
 */
export async function ensureDynamoTable(client: DynamoDBClient, table: string): Promise<void> {
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
          AttributeType: "S" as const,
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
