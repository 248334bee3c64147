import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandOutput,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError, InfrastructureError } from "../core/errors.js";
import { decideClaim } from "./decide-claim.js";
import { checkJobChange } from "./check-job-change.js";
import { assertChunkSize } from "./log-chunk-size.js";
import type {
  BuildRecord,
  CacheImageRecord,
  ClaimResult,
  InstallationRecord,
  JobRecord,
  JobUpdate,
  LogChunk,
  Store,
  SupersedeKey,
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
/** Optimistic-write retries when another writer changed a job between our read and write. */
const MAX_ATTEMPTS = 8;

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const chunkKey = (seq: number) => `CHUNK#${pad(seq, 10)}`;
const supersedeKeyString = (key: SupersedeKey) => `${key.repoId}|${key.line}|${key.hook}`;

interface JobItem {
  data: string;
  version: number;
}

/**
 * The Store on one DynamoDB table (key design in docs/queue-store.md). Jobs carry a
 * version number; every change is a Put conditional on the version that was read.
 */
export function openDynamoStore(options: DynamoStoreOptions): Store {
  const raw = options.client ?? new DynamoDBClient({});
  const db = DynamoDBDocumentClient.from(raw);
  const TableName = options.table;
  const logRetentionS = (options.logRetentionDays ?? 30) * DAY_S;
  const deliveryRetentionS = options.deliveryRetentionSeconds ?? 7 * DAY_S;

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (
        error instanceof ConflictError ||
        isConditionFailure(error) ||
        (error as Error).name === "TransactionCanceledException"
      ) {
        throw error;
      }
      throw new InfrastructureError(
        `DynamoDB ${what} on ${TableName} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  /** An item holding one JSON record under fixed keys. */
  async function putRecord(what: string, pk: string, sk: string, record: object): Promise<void> {
    await call(what, () =>
      db.send(new PutCommand({ TableName, Item: { pk, sk, data: JSON.stringify(record) } })),
    );
  }
  async function getRecord<T>(what: string, pk: string, sk: string): Promise<T | undefined> {
    const out = await call(what, () =>
      db.send(new GetCommand({ TableName, Key: { pk, sk }, ConsistentRead: true })),
    );
    return out.Item ? (JSON.parse(out.Item.data as string) as T) : undefined;
  }

  async function readJob(id: string): Promise<{ job: JobRecord; version: number } | undefined> {
    const out = await call("get job", () =>
      db.send(
        new GetCommand({ TableName, Key: { pk: `JOB#${id}`, sk: "JOB" }, ConsistentRead: true }),
      ),
    );
    const item = out.Item as JobItem | undefined;
    return item ? { job: JSON.parse(item.data) as JobRecord, version: item.version } : undefined;
  }

  function jobItem(job: JobRecord, version: number) {
    return {
      pk: `JOB#${job.id}`,
      sk: "JOB",
      gsi1pk: `BUILD#${job.buildId}`,
      gsi1sk: `JOB#${pad(job.createdAt, 15)}#${job.id}`,
      status: job.status,
      version,
      data: JSON.stringify(job),
    };
  }

  /** A conditional Put: its output, or undefined when the condition did not hold. */
  async function conditionalPut(
    what: string,
    input: ConstructorParameters<typeof PutCommand>[0],
  ): Promise<PutCommandOutput | undefined> {
    try {
      return await call(what, () => db.send(new PutCommand(input)));
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Writes `next` only if the job is still at `version`; false when someone else wrote first. */
  async function writeJob(next: JobRecord, version: number): Promise<boolean> {
    const out = await conditionalPut("write job", {
      TableName,
      Item: jobItem(next, version + 1),
      ConditionExpression: "version = :v",
      ExpressionAttributeValues: { ":v": version },
    });
    return out !== undefined;
  }

  /** Read, decide, conditionally write; again from the read when another writer won. */
  async function mutateJob<T>(
    id: string,
    decide: (job: JobRecord | undefined) => { next?: JobRecord; result: T },
  ): Promise<T> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await readJob(id);
      const { next, result } = decide(current?.job);
      if (!next || !current) return result;
      if (await writeJob(next, current.version)) return result;
      await sleep(5 + Math.random() * 20);
    }
    throw new InfrastructureError(`job ${id}: too many concurrent writers, gave up`);
  }

  function buildItem(build: BuildRecord) {
    return {
      pk: `BUILD#${build.id}`,
      sk: "BUILD",
      gsi1pk: `REPO#${build.repoId}`,
      gsi1sk: `BUILD#${pad(build.createdAt, 15)}#${build.id}`,
      gsi2pk: `COMMIT#${build.repoId}#${build.sha}`,
      gsi2sk: `BUILD#${pad(build.createdAt, 15)}#${build.id}`,
      data: JSON.stringify(build),
    };
  }

  async function queryData<T>(input: Omit<QueryCommandInput, "TableName">): Promise<T[]> {
    const out = await call("query", () => db.send(new QueryCommand({ TableName, ...input })));
    return (out.Items ?? []).map((item) => JSON.parse(item.data as string) as T);
  }

  return {
    async createBuild(build, jobs) {
      const put = (Item: Record<string, unknown>) => ({
        Put: { TableName, Item, ConditionExpression: "attribute_not_exists(pk)" },
      });
      try {
        await call("create build", () =>
          db.send(
            new TransactWriteCommand({
              TransactItems: [put(buildItem(build)), ...jobs.map((j) => put(jobItem(j, 0)))],
            }),
          ),
        );
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] })
          .CancellationReasons;
        if (reasons?.some((r) => r.Code === "ConditionalCheckFailed")) {
          throw new ConflictError(`build ${build.id} or one of its jobs already exists`, {
            cause: error,
          });
        }
        throw error;
      }
    },
    async getBuild(id) {
      const out = await call("get build", () =>
        db.send(new GetCommand({ TableName, Key: { pk: `BUILD#${id}`, sk: "BUILD" } })),
      );
      return out.Item ? (JSON.parse(out.Item.data as string) as BuildRecord) : undefined;
    },
    async findBuildsByCommit(repoId, sha) {
      return queryData<BuildRecord>({
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :p",
        ExpressionAttributeValues: { ":p": `COMMIT#${repoId}#${sha}` },
      });
    },
    async listBuilds(repoId, opts = {}) {
      return queryData<BuildRecord>({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p AND gsi1sk < :before",
        ExpressionAttributeValues: {
          ":p": `REPO#${repoId}`,
          ":before": `BUILD#${pad(opts.before ?? 999_999_999_999_999, 15)}`,
        },
        ScanIndexForward: false,
        Limit: opts.limit ?? 50,
      });
    },
    async getJob(id) {
      return (await readJob(id))?.job;
    },
    async listJobs(buildId) {
      return queryData<JobRecord>({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": `BUILD#${buildId}` },
      });
    },
    async transitionJob(id, from, update) {
      return mutateJob(id, (job) => {
        const next = checkJobChange(id, job, from, update, Date.now());
        return { next, result: next };
      });
    },
    async updateJob(id, from, fields) {
      const { status: _ignored, ...rest } = fields as Partial<JobUpdate>;
      return mutateJob(id, (job) => {
        const next = checkJobChange(id, job, from, rest, Date.now());
        return { next, result: next };
      });
    },
    async claimJob(id, owner, leaseMs, now = Date.now()): Promise<ClaimResult> {
      return mutateJob<ClaimResult>(id, (job) => {
        if (!job) return { result: { outcome: "missing" } };
        const decision = decideClaim(job, owner, leaseMs, now);
        const result = decision.result;
        return {
          next: decision.write && result.outcome !== "missing" ? result.job : undefined,
          result,
        };
      });
    },
    async renewLease(id, owner, leaseMs, now = Date.now()) {
      return mutateJob(id, (job) => {
        if (!job || job.status !== "running" || job.leaseOwner !== owner) {
          throw new ConflictError(
            `job ${id}: ${owner} no longer holds the lease (owner ${job?.leaseOwner ?? "none"}, status ${job?.status ?? "missing"})`,
          );
        }
        const next: JobRecord = { ...job, leaseExpiresAt: now + leaseMs, updatedAt: now };
        return { next, result: next };
      });
    },
    async requestCancel(id, reason) {
      return mutateJob<JobRecord | undefined>(id, (job) => {
        if (!job || job.status === "completed" || job.status === "errored") return { result: job };
        const next: JobRecord = {
          ...job,
          cancelRequested: true,
          message: reason,
          updatedAt: Date.now(),
        };
        return { next, result: next };
      });
    },
    async recordLatest(key, sha, jobId, createdAt) {
      const out = await conditionalPut("record latest", {
        TableName,
        Item: { pk: `LATEST#${supersedeKeyString(key)}`, sk: "LATEST", sha, jobId, createdAt },
        ConditionExpression: "attribute_not_exists(pk) OR createdAt <= :c",
        ExpressionAttributeValues: { ":c": createdAt },
        ReturnValues: "ALL_OLD",
      });
      const previous = out?.Attributes?.jobId as string | undefined;
      return previous && previous !== jobId ? [previous] : [];
    },
    async appendLog(chunk: LogChunk) {
      assertChunkSize(chunk);
      // An existing seq is a retried append: the condition failing is the expected outcome.
      await conditionalPut("append log", {
        TableName,
        Item: {
          pk: `LOG#${chunk.jobId}`,
          sk: chunkKey(chunk.seq),
          seq: chunk.seq,
          data: chunk.data,
          expiresAt: Math.floor(Date.now() / 1000) + logRetentionS,
        },
        ConditionExpression: "attribute_not_exists(pk)",
      });
    },
    async readLog(jobId, fromSeq = 0, limit = 1000) {
      const out = await call("read log", () =>
        db.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: "pk = :p AND sk >= :from",
            ExpressionAttributeValues: { ":p": `LOG#${jobId}`, ":from": chunkKey(fromSeq) },
            ConsistentRead: true,
            Limit: limit,
          }),
        ),
      );
      return (out.Items ?? []).map((item) => ({
        jobId,
        seq: item.seq as number,
        data: item.data as string,
        expiresAt: item.expiresAt as number,
      }));
    },
    async recordDelivery(deliveryId, now = Date.now()) {
      const nowS = Math.floor(now / 1000);
      const out = await conditionalPut("record delivery", {
        TableName,
        Item: {
          pk: `DELIVERY#${deliveryId}`,
          sk: "DELIVERY",
          expiresAt: nowS + deliveryRetentionS,
        },
        // TTL deletion lags by up to days: an expired item counts as absent.
        ConditionExpression: "attribute_not_exists(pk) OR expiresAt <= :now",
        ExpressionAttributeValues: { ":now": nowS },
      });
      return out !== undefined;
    },
    async forgetDelivery(deliveryId) {
      await call("forget delivery", () =>
        db.send(
          new DeleteCommand({ TableName, Key: { pk: `DELIVERY#${deliveryId}`, sk: "DELIVERY" } }),
        ),
      );
    },
    async putInstallation(installation: InstallationRecord) {
      await putRecord(
        "put installation",
        `INSTALLATION#${installation.id}`,
        "INSTALLATION",
        installation,
      );
    },
    async getInstallation(id) {
      return getRecord<InstallationRecord>(
        "get installation",
        `INSTALLATION#${id}`,
        "INSTALLATION",
      );
    },
    async recordCacheImage(record: CacheImageRecord) {
      await putRecord("record cache image", `CACHEIMAGE#${record.imageId}`, "CACHEIMAGE", record);
    },
    async getCacheImage(imageId) {
      return getRecord<CacheImageRecord>("get cache image", `CACHEIMAGE#${imageId}`, "CACHEIMAGE");
    },
    async deleteInstallation(id) {
      await call("delete installation", () =>
        db.send(
          new DeleteCommand({ TableName, Key: { pk: `INSTALLATION#${id}`, sk: "INSTALLATION" } }),
        ),
      );
    },
    async close() {
      if (!options.client || options.ownsClient) raw.destroy();
    },
  };
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === "ConditionalCheckFailedException";
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
