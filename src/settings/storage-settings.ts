import * as z from "zod";
import { httpUrlVar, patternVar } from "./env-vars.js";
import { schemaGroup, type SettingsGroup } from "./settings-group.js";
import {
  KOZMIC_DATA_DIR,
  KOZMIC_LOG_RETENTION_DAYS,
  KOZMIC_MAX_RECEIVES,
  KOZMIC_QUEUE_URL,
} from "./shared-variables.js";

/**
 * Receives of a planning message before it is dead-lettered. With the planner's backoff
 * (doubling from 2 s, at most 5 min) 40 receives span about 2.8 hours of GitHub outage.
 */
export const PLAN_MAX_RECEIVES = 40;

export type QueueSettings =
  { kind: "embedded"; dataDir: string; maxReceives: number } | SqsSettings;

export type StorageSettings = {
  queue: QueueSettings;
  /** Planning messages, apart from jobs so that they never wait behind a long job queue. */
  planQueue: QueueSettings;
} & { store: { kind: "embedded"; dataDir: string; logRetentionDays: number } | DynamoSettings };

export interface SqsSettings {
  kind: "sqs";
  queueUrl: string;
  /** KOZMIC_DEAD_LETTER_QUEUE_URL, else the queue URL + "-dead-letters" (as ensureSqsQueues names it). */
  deadLetterQueueUrl: string;
  maxReceives: number;
  region: string;
  /** AWS_ENDPOINT_URL_SQS, for ElasticMQ or a VPC endpoint. */
  endpoint?: string;
}

export interface DynamoSettings {
  kind: "dynamodb";
  table: string;
  logRetentionDays: number;
  region: string;
  /** AWS_ENDPOINT_URL_DYNAMODB, for DynamoDB Local. */
  endpoint?: string;
}

const schema = z
  .object({
    KOZMIC_DATA_DIR,
    KOZMIC_MAX_RECEIVES,
    KOZMIC_LOG_RETENTION_DAYS,
    KOZMIC_QUEUE_URL,
    KOZMIC_DEAD_LETTER_QUEUE_URL: httpUrlVar("KOZMIC_DEAD_LETTER_QUEUE_URL"),
    KOZMIC_PLAN_QUEUE_URL: httpUrlVar("KOZMIC_PLAN_QUEUE_URL"),
    KOZMIC_TABLE: patternVar(
      "KOZMIC_TABLE",
      /^[A-Za-z0-9_.-]{3,255}$/,
      "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)",
    ),
    AWS_REGION: z.string().optional(),
    AWS_ENDPOINT_URL_SQS: httpUrlVar("AWS_ENDPOINT_URL_SQS"),
    AWS_ENDPOINT_URL_DYNAMODB: httpUrlVar("AWS_ENDPOINT_URL_DYNAMODB"),
  })
  .superRefine((e, ctx) => {
    const needsRegion = [e.KOZMIC_QUEUE_URL && "KOZMIC_QUEUE_URL", e.KOZMIC_TABLE && "KOZMIC_TABLE"]
      .filter(Boolean)
      .join(" and ");
    const problem = (message: string) => ctx.addIssue({ code: "custom", message });
    if (needsRegion && !e.AWS_REGION) {
      problem(
        `${needsRegion} set but AWS_REGION is not: set AWS_REGION to the region of the queue and table`,
      );
    }
    if (e.KOZMIC_PLAN_QUEUE_URL && !e.KOZMIC_QUEUE_URL) {
      problem(
        "KOZMIC_PLAN_QUEUE_URL set but KOZMIC_QUEUE_URL is not: planning messages and jobs live on the same kind of queue; set both or neither",
      );
    }
    if (e.KOZMIC_DEAD_LETTER_QUEUE_URL && !e.KOZMIC_QUEUE_URL) {
      problem(
        "KOZMIC_DEAD_LETTER_QUEUE_URL set but KOZMIC_QUEUE_URL is not: the embedded queue keeps its own dead letters; set both or neither",
      );
    }
  })
  .transform((e): StorageSettings => {
    const sqs = (queueUrl: string, deadLetterQueueUrl: string, maxReceives: number) => ({
      kind: "sqs" as const,
      queueUrl,
      deadLetterQueueUrl,
      maxReceives,
      region: e.AWS_REGION!,
      endpoint: e.AWS_ENDPOINT_URL_SQS,
    });
    const embedded = (maxReceives: number) => ({
      kind: "embedded" as const,
      dataDir: e.KOZMIC_DATA_DIR,
      maxReceives,
    });
    const planQueueUrl = e.KOZMIC_PLAN_QUEUE_URL ?? `${e.KOZMIC_QUEUE_URL}-plans`;
    return {
      queue: e.KOZMIC_QUEUE_URL
        ? sqs(
            e.KOZMIC_QUEUE_URL,
            e.KOZMIC_DEAD_LETTER_QUEUE_URL ?? `${e.KOZMIC_QUEUE_URL}-dead-letters`,
            e.KOZMIC_MAX_RECEIVES,
          )
        : embedded(e.KOZMIC_MAX_RECEIVES),
      planQueue: e.KOZMIC_QUEUE_URL
        ? sqs(planQueueUrl, `${planQueueUrl}-dead-letters`, PLAN_MAX_RECEIVES)
        : embedded(PLAN_MAX_RECEIVES),
      store: e.KOZMIC_TABLE
        ? {
            kind: "dynamodb",
            table: e.KOZMIC_TABLE,
            logRetentionDays: e.KOZMIC_LOG_RETENTION_DAYS,
            region: e.AWS_REGION!,
            endpoint: e.AWS_ENDPOINT_URL_DYNAMODB,
          }
        : {
            kind: "embedded",
            dataDir: e.KOZMIC_DATA_DIR,
            logRetentionDays: e.KOZMIC_LOG_RETENTION_DAYS,
          },
    };
  });

/** Which queue and store to open: SQS and DynamoDB, or the embedded SQLite file. */
export const storageGroup: SettingsGroup<StorageSettings> = schemaGroup(schema);

/** Storage on AWS: the queues on SQS, the store on DynamoDB. */
export interface AwsStorageSettings {
  queue: SqsSettings;
  planQueue: SqsSettings;
  store: DynamoSettings;
}

/**
 * A Lambda has no disk that outlives it: without these the embedded SQLite queue and store
 * would be opened on /tmp, and builds would vanish with the container.
 */
const REQUIRED_ON_LAMBDA = {
  KOZMIC_QUEUE_URL:
    "KOZMIC_QUEUE_URL is required on AWS Lambda: the job queue's SQS URL (the planning queue is KOZMIC_PLAN_QUEUE_URL, by default the same URL + -plans); a Lambda keeps no disk for the embedded queue",
  KOZMIC_TABLE:
    "KOZMIC_TABLE is required on AWS Lambda: the DynamoDB table's name; a Lambda keeps no disk for the embedded store",
};

/** The storage group on AWS Lambda: SQS and DynamoDB only, the missing variables named first. */
export const awsStorageGroup: SettingsGroup<AwsStorageSettings> = {
  read(env) {
    const missing = Object.entries(REQUIRED_ON_LAMBDA)
      .filter(([name]) => env[name] === undefined)
      .map(([, problem]) => problem);
    const storage = storageGroup.read(env);
    if (!storage.ok) return { ok: false, problems: [...missing, ...storage.problems] };
    if (missing.length > 0) return { ok: false, problems: missing };
    // Both variables are set: the queues are on SQS and the store is DynamoDB.
    return { ok: true, value: storage.value as AwsStorageSettings };
  },
};
