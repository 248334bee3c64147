import { readLambdaSettings, readPlanLambdaSettings, type LambdaSettings } from "./entry-points.js";
import { fileIo, withoutBlanks } from "./read-settings.js";
import { SettingsError } from "./settings-error.js";
import type { Env, SettingsIo } from "./settings-group.js";
import type { DynamoSettings, SqsSettings, StorageSettings } from "./storage-settings.js";

/** Storage on AWS: the queues on SQS, the store on DynamoDB. */
export interface AwsStorageSettings {
  queue: SqsSettings;
  planQueue: SqsSettings;
  store: DynamoSettings;
}

export interface AwsLambdaSettings extends Omit<LambdaSettings, "storage"> {
  storage: AwsStorageSettings;
}

export type AwsPlanLambdaSettings = Omit<AwsLambdaSettings, "web">;

/**
 * A Lambda has no disk that outlives it: without these the embedded SQLite queue and store
 * would be opened on /tmp, and builds would vanish with the container.
 */
const REQUIRED_ON_LAMBDA = [
  [
    "KOZMIC_QUEUE_URL",
    "KOZMIC_QUEUE_URL is required on AWS Lambda: the job queue's SQS URL (the planning queue is KOZMIC_PLAN_QUEUE_URL, by default the same URL + -plans); a Lambda keeps no disk for the embedded queue",
  ],
  [
    "KOZMIC_TABLE",
    "KOZMIC_TABLE is required on AWS Lambda: the DynamoDB table's name; a Lambda keeps no disk for the embedded store",
  ],
] as const;

/** The Lambda's `handler`: webhooks and log pages, on SQS and DynamoDB only. */
export function readAwsLambdaSettings(env: Env, io: SettingsIo = fileIo): AwsLambdaSettings {
  const settings = withAwsStorageRequired(env, () => readLambdaSettings(env, io));
  return { ...settings, storage: awsStorageOf(settings.storage) };
}

/** The Lambda's `planHandler`: the planner behind the planning queue, on SQS and DynamoDB only. */
export function readAwsPlanLambdaSettings(
  env: Env,
  io: SettingsIo = fileIo,
): AwsPlanLambdaSettings {
  const settings = withAwsStorageRequired(env, () => readPlanLambdaSettings(env, io));
  return { ...settings, storage: awsStorageOf(settings.storage) };
}

/** Runs `read`, adding the missing AWS variables to its problems so that one error names all. */
function withAwsStorageRequired<T>(env: Env, read: () => T): T {
  const present = withoutBlanks(env);
  const missing = REQUIRED_ON_LAMBDA.filter(([name]) => present[name] === undefined).map(
    ([, problem]) => problem,
  );
  let settings: T;
  try {
    settings = read();
  } catch (error) {
    if (error instanceof SettingsError) throw new SettingsError([...missing, ...error.problems]);
    throw error;
  }
  if (missing.length > 0) throw new SettingsError(missing);
  return settings;
}

function awsStorageOf({ queue, planQueue, store }: StorageSettings): AwsStorageSettings {
  // Both variables were checked above; this narrows the types.
  if (queue.kind !== "sqs" || planQueue.kind !== "sqs" || store.kind !== "dynamodb") {
    throw new Error("AWS storage settings expected after KOZMIC_QUEUE_URL and KOZMIC_TABLE");
  }
  return { queue, planQueue, store };
}
