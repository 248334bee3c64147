import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { JobMessage } from "../core/job-message.js";
import {
  JOB_MESSAGES,
  parseMessageBody,
  serializeMessage,
  type MessageKind,
} from "./parse-message-body.js";
import { openDatabase, type SqliteDatabase } from "../store/open-database.js";
import type {
  DeadLetter,
  InspectableQueue,
  QueueLog,
  ReceiveOptions,
  ReceivedMessage,
} from "./port.js";

export interface EmbeddedQueueOptions<M = JobMessage> {
  dataDir: string;
  /** Queue name inside the file; tests use a fresh one each. */
  name?: string;
  /** A message received more often than this goes to the dead-letter queue. */
  maxReceives?: number;
  log?: QueueLog;
  /** What the queue carries; job messages when absent. */
  kind?: MessageKind<M>;
}

interface Row {
  id: string;
  body: string;
  receive_count: number;
}

const POLL_MS = 50;

/** The SQS behaviour (visibility, receive counts, dead letters) in a SQLite file. */
export function openEmbeddedQueue<M = JobMessage>(
  options: EmbeddedQueueOptions<M>,
): InspectableQueue<M> {
  const kind = options.kind ?? (JOB_MESSAGES as unknown as MessageKind<M>);
  const serialize = (message: M) => serializeMessage(message, kind);
  const db: SqliteDatabase = openDatabase(options.dataDir);
  const name = options.name ?? "jobs";
  const maxReceives = options.maxReceives ?? 5;
  const log = options.log ?? ((line: string) => console.error(line));
  const insert = db.prepare(
    "INSERT INTO queue_messages (id, queue, body, visible_at) VALUES (?, ?, ?, ?)",
  );
  const ready = db.prepare(
    "SELECT id, body, receive_count FROM queue_messages WHERE queue = ? AND dead = 0 AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
  );
  const markDead = db.prepare(
    "UPDATE queue_messages SET dead = 1, receipt = NULL, receive_count = ? WHERE id = ?",
  );
  const lease = db.prepare(
    "UPDATE queue_messages SET receipt = ?, visible_at = ?, receive_count = ? WHERE id = ?",
  );
  const extend = db.prepare(
    "UPDATE queue_messages SET visible_at = ? WHERE receipt = ? AND dead = 0",
  );
  const remove = db.prepare("DELETE FROM queue_messages WHERE receipt = ?");
  const deadRows = db.prepare(
    "SELECT id, body, receive_count FROM queue_messages WHERE queue = ? AND dead = 1 ORDER BY seq LIMIT ?",
  );
  const removeId = db.prepare("DELETE FROM queue_messages WHERE id = ?");

  const sendRows = db.transaction((rows: { id: string; body: string; visibleAt: number }[]) => {
    for (const row of rows) insert.run(row.id, name, row.body, row.visibleAt);
  });

  const take = db.transaction((max: number, visibilityMs: number): ReceivedMessage<M>[] => {
    const now = Date.now();
    const out: ReceivedMessage<M>[] = [];
    for (const row of ready.all(name, now, max) as Row[]) {
      const count = row.receive_count + 1;
      if (count > maxReceives) {
        markDead.run(count - 1, row.id);
        log(
          `queue ${name}: message ${row.id} moved to the dead-letter queue after ${count - 1} receives`,
        );
        continue;
      }
      const parsed = parseMessageBody(row.body, kind);
      if (!parsed.ok) {
        markDead.run(count, row.id);
        log(
          `queue ${name}: malformed message ${row.id} moved to the dead-letter queue: ${parsed.error}`,
        );
        continue;
      }
      const receipt = randomUUID();
      lease.run(receipt, now + visibilityMs, count, row.id);
      out.push({ messageId: row.id, receipt, receiveCount: count, body: parsed.message });
    }
    return out;
  });

  const drainDead = db.transaction((max: number): DeadLetter[] => {
    const rows = deadRows.all(name, max) as Row[];
    for (const row of rows) removeId.run(row.id);
    return rows.map((r) => ({ messageId: r.id, rawBody: r.body, receiveCount: r.receive_count }));
  });

  function enqueue(bodies: string[], delaySeconds = 0): string[] {
    const visibleAt = Date.now() + delaySeconds * 1000;
    const rows = bodies.map((body) => ({ id: randomUUID(), body, visibleAt }));
    sendRows.immediate(rows);
    return rows.map((r) => r.id);
  }

  return {
    async send(message: M, opts?: { delaySeconds?: number }) {
      return enqueue([serialize(message)], opts?.delaySeconds)[0]!;
    },
    async sendBatch(messages: M[]) {
      return enqueue(messages.map(serialize));
    },
    async sendRaw(body: string) {
      return enqueue([body])[0]!;
    },
    async receive(opts: ReceiveOptions = {}) {
      const max = opts.maxMessages ?? 1;
      const visibilityMs = (opts.visibilitySeconds ?? 30) * 1000;
      const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
      for (;;) {
        const got = take.immediate(max, visibilityMs);
        if (got.length > 0 || Date.now() >= deadline || opts.signal?.aborted) return got;
        await sleep(POLL_MS);
      }
    },
    async extendVisibility(receipt: string, seconds: number) {
      extend.run(Date.now() + seconds * 1000, receipt);
    },
    async delete(receipt: string) {
      remove.run(receipt);
    },
    async receiveDeadLetters(max = 10) {
      return drainDead.immediate(max);
    },
    async close() {
      db.close();
    },
  };
}
