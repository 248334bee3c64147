import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  ChangeMessageVisibilityCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";
import type { JobMessage } from "../core/job-message.js";
import { InfrastructureError } from "../core/errors.js";
import type { SqsSettings } from "../settings/storage-settings.js";
import {
  JOB_MESSAGES,
  parseMessageBody,
  serializeMessage,
  type MessageKind,
} from "./parse-message-body.js";
import type {
  DeadLetter,
  InspectableQueue,
  QueueLog,
  ReceiveOptions,
  ReceivedMessage,
} from "./port.js";
import { setUpSqsQueue } from "./set-up-sqs-queue.js";

export interface SqsQueueOptions<M = JobMessage> {
  /** Destroy `client` on close (it was made for this adapter alone). */
  ownsClient?: boolean;
  queueUrl: string;
  deadLetterQueueUrl: string;
  client?: SQSClient;
  log?: QueueLog;
  /** What the queue carries; job messages when absent. */
  kind?: MessageKind<M>;
}

const wholeSeconds = (seconds: number | undefined) =>
  seconds === undefined ? undefined : Math.ceil(seconds);

/** Marks a body we moved to the dead-letter queue ourselves, with the id it had before. */
const ORIGINAL_ID = "KozmicOriginalMessageId";

/** The queue on SQS. Poison messages move by the queue's redrive policy, malformed ones by us. */
export function openSqsQueue<M = JobMessage>(options: SqsQueueOptions<M>): InspectableQueue<M> {
  const kind = options.kind ?? (JOB_MESSAGES as unknown as MessageKind<M>);
  const serialize = (message: M) => serializeMessage(message, kind);
  const client = options.client ?? new SQSClient({});
  const log = options.log ?? ((line: string) => console.error(line));
  const { queueUrl, deadLetterQueueUrl } = options;

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw new InfrastructureError(`SQS ${what} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async function sendBody(body: string, delaySeconds?: number): Promise<string> {
    const out = await call("send", () =>
      client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          DelaySeconds: delaySeconds,
        }),
      ),
    );
    return out.MessageId!;
  }

  async function deadLetter(message: Message, reason: string): Promise<void> {
    await call("dead-lettering a message", async () => {
      await client.send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MessageBody: message.Body ?? "",
          MessageAttributes: {
            [ORIGINAL_ID]: { DataType: "String", StringValue: message.MessageId ?? "unknown" },
          },
        }),
      );
      await client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    });
    log(
      `queue ${queueUrl}: malformed message ${message.MessageId} moved to the dead-letter queue: ${reason}`,
    );
  }

  return {
    async send(message: M, opts?: { delaySeconds?: number }) {
      return sendBody(serialize(message), opts?.delaySeconds);
    },
    async sendBatch(messages: M[]) {
      const ids: string[] = [];
      for (let i = 0; i < messages.length; i += 10) {
        const entries = messages.slice(i, i + 10).map((m, n) => ({
          Id: String(n),
          MessageBody: serialize(m),
        }));
        const out = await call("send batch", () =>
          client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })),
        );
        if (out.Failed && out.Failed.length > 0) {
          throw new InfrastructureError(
            `SQS refused ${out.Failed.length} of ${entries.length} messages: ${out.Failed.map((f) => f.Message).join("; ")}`,
          );
        }
        const byEntry = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId!]));
        for (const e of entries) ids.push(byEntry.get(e.Id)!);
      }
      return ids;
    },
    async sendRaw(body: string) {
      return sendBody(body);
    },
    async receive(opts: ReceiveOptions = {}) {
      const out = await call("receive", () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(opts.maxMessages ?? 1, 10),
            // SQS takes whole seconds (a wait of at most 20); the embedded queue takes fractions.
            WaitTimeSeconds: Math.min(20, Math.round(opts.waitSeconds ?? 0)),
            VisibilityTimeout: wholeSeconds(opts.visibilitySeconds),
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: opts.signal },
        ),
      );
      const jobs: ReceivedMessage<M>[] = [];
      for (const message of out.Messages ?? []) {
        const parsed = parseMessageBody(message.Body ?? "", kind);
        if (!parsed.ok) {
          await deadLetter(message, parsed.error);
          continue;
        }
        jobs.push({
          messageId: message.MessageId!,
          receipt: message.ReceiptHandle!,
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
          body: parsed.message,
        });
      }
      return jobs;
    },
    async extendVisibility(receipt: string, seconds: number) {
      await call("extend visibility", () =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: receipt,
            VisibilityTimeout: wholeSeconds(seconds),
          }),
        ),
      );
    },
    async delete(receipt: string) {
      await call("delete", () =>
        client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt })),
      );
    },
    async receiveDeadLetters(max = 10) {
      const out = await call("receive dead letters", () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MaxNumberOfMessages: Math.min(max, 10),
            VisibilityTimeout: 30,
            MessageAttributeNames: [ORIGINAL_ID],
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
        ),
      );
      const letters: DeadLetter[] = [];
      for (const message of out.Messages ?? []) {
        letters.push({
          messageId: message.MessageAttributes?.[ORIGINAL_ID]?.StringValue ?? message.MessageId!,
          rawBody: message.Body ?? "",
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "0"),
        });
        await call("delete dead letter", () =>
          client.send(
            new DeleteMessageCommand({
              QueueUrl: deadLetterQueueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          ),
        );
      }
      return letters;
    },
    async close() {
      if (!options.client || options.ownsClient) client.destroy();
    },
  };
}

/**
 * Creates (or finds) `<name>` and `<name>-dead-letters`, with a redrive policy moving a
 * message to the second after `maxReceives` receives (kozmic setup's way, with --fix). Safe
 * to run again.
 */
export async function ensureSqsQueues(
  client: SQSClient,
  name: string,
  maxReceives: number,
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const setup = await setUpSqsQueue(client, name, maxReceives, { fix: true, setting: "" });
  return { queueUrl: setup.queueUrl, deadLetterQueueUrl: setup.deadLetterQueueUrl };
}

/**
 * An SQS queue of settings already read, with a client of its own. Apart from open-queue.ts
 * so that the Lambda bundle, which never opens the embedded queue, leaves SQLite out.
 */
export function sqsQueueFrom<M>(
  settings: SqsSettings,
  kind: MessageKind<M>,
  log?: QueueLog,
): InspectableQueue<M> {
  return openSqsQueue({
    client: new SQSClient({ region: settings.region, endpoint: settings.endpoint }),
    ownsClient: true,
    queueUrl: settings.queueUrl,
    deadLetterQueueUrl: settings.deadLetterQueueUrl,
    kind,
    log,
  });
}

/** A unique queue name for tests and benchmarks. */
export function uniqueQueueName(prefix = "kozmic"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
