import { z } from "zod";
import { httpUrlVar, wholeNumberVar } from "../core/env-vars.js";
import { PermanentError } from "../core/errors.js";

/** A missing, malformed or contradictory environment variable; the message names it. */
export class SettingsError extends PermanentError {}

const envSchema = z
  .object({
    KOZMIC_DATA_DIR: z
      .string()
      .optional()
      .transform((v) => (v && v.trim() !== "" ? v : "./.kozmic")),
    KOZMIC_MAX_RECEIVES: wholeNumberVar("KOZMIC_MAX_RECEIVES", 1, 1000).transform((n) => n ?? 5),
    KOZMIC_LOG_RETENTION_DAYS: wholeNumberVar("KOZMIC_LOG_RETENTION_DAYS", 1, 3650).transform(
      (n) => n ?? 30,
    ),
    KOZMIC_QUEUE_URL: httpUrlVar("KOZMIC_QUEUE_URL"),
    KOZMIC_DEAD_LETTER_QUEUE_URL: httpUrlVar("KOZMIC_DEAD_LETTER_QUEUE_URL"),
    KOZMIC_PLAN_QUEUE_URL: httpUrlVar("KOZMIC_PLAN_QUEUE_URL"),
    KOZMIC_TABLE: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined || value === "") return undefined;
        if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
          ctx.addIssue({
            code: "custom",
            message: `KOZMIC_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got "${value}"`,
          });
          return z.NEVER;
        }
        return value;
      }),
    AWS_REGION: z.string().optional(),
    AWS_ENDPOINT_URL_SQS: httpUrlVar("AWS_ENDPOINT_URL_SQS"),
    AWS_ENDPOINT_URL_DYNAMODB: httpUrlVar("AWS_ENDPOINT_URL_DYNAMODB"),
  })
  .superRefine((env, ctx) => {
    const needsRegion = [
      env.KOZMIC_QUEUE_URL && "KOZMIC_QUEUE_URL",
      env.KOZMIC_TABLE && "KOZMIC_TABLE",
    ].filter(Boolean);
    if (needsRegion.length > 0 && !env.AWS_REGION) {
      ctx.addIssue({
        code: "custom",
        message: `${needsRegion.join(" and ")} set but AWS_REGION is not: set AWS_REGION to the region of the queue and table`,
      });
    }
    if (env.KOZMIC_PLAN_QUEUE_URL && !env.KOZMIC_QUEUE_URL) {
      ctx.addIssue({
        code: "custom",
        message:
          "KOZMIC_PLAN_QUEUE_URL set but KOZMIC_QUEUE_URL is not: planning messages and jobs live on the same kind of queue; set both or neither",
      });
    }
    if (env.KOZMIC_DEAD_LETTER_QUEUE_URL && !env.KOZMIC_QUEUE_URL) {
      ctx.addIssue({
        code: "custom",
        message:
          "KOZMIC_DEAD_LETTER_QUEUE_URL set but KOZMIC_QUEUE_URL is not: the embedded queue keeps its own dead letters; set both or neither",
      });
    }
  });

/**
 * Receives of a planning message before it is dead-lettered. With the planner's backoff
 * (doubling from 2 s, at most 5 min) 40 receives span about 2.8 hours of GitHub outage.
 */
export const PLAN_MAX_RECEIVES = 40;

type QueueSettings = { kind: "embedded"; dataDir: string; maxReceives: number } | SqsSettings;

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

/** Which queue and store to open, from the environment; pure, throws SettingsError. */
export function readStorageSettings(env: NodeJS.ProcessEnv): StorageSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(
      `invalid storage settings: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
    );
  }
  const e = parsed.data;
  const planQueueUrl = e.KOZMIC_PLAN_QUEUE_URL ?? `${e.KOZMIC_QUEUE_URL}-plans`;
  return {
    planQueue: e.KOZMIC_QUEUE_URL
      ? {
          kind: "sqs",
          queueUrl: planQueueUrl,
          deadLetterQueueUrl: `${planQueueUrl}-dead-letters`,
          maxReceives: PLAN_MAX_RECEIVES,
          region: e.AWS_REGION!,
          endpoint: e.AWS_ENDPOINT_URL_SQS,
        }
      : { kind: "embedded", dataDir: e.KOZMIC_DATA_DIR, maxReceives: PLAN_MAX_RECEIVES },
    queue: e.KOZMIC_QUEUE_URL
      ? {
          kind: "sqs",
          queueUrl: e.KOZMIC_QUEUE_URL,
          deadLetterQueueUrl:
            e.KOZMIC_DEAD_LETTER_QUEUE_URL ?? `${e.KOZMIC_QUEUE_URL}-dead-letters`,
          maxReceives: e.KOZMIC_MAX_RECEIVES,
          region: e.AWS_REGION!,
          endpoint: e.AWS_ENDPOINT_URL_SQS,
        }
      : { kind: "embedded", dataDir: e.KOZMIC_DATA_DIR, maxReceives: e.KOZMIC_MAX_RECEIVES },
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
}
