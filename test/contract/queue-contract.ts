import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidMessageError } from "../../src/core/errors.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { InspectableQueue } from "../../src/queue/port.js";
import type { PlanMessage } from "../../src/core/plan-message.js";
import { PLAN_MESSAGES, type MessageKind } from "../../src/queue/parse-message-body.js";
import { aJobMessage } from "../support/job-fixtures.js";

const PLAN: PlanMessage = {
  version: 1,
  deliveryId: "9c2d5b00-delivery",
  installationId: 7,
  repository: {
    id: 42,
    fullName: "acme/app",
    cloneUrl: "https://github.com/acme/app.git",
    private: true,
  },
  task: {
    kind: "build",
    event: "pull_request",
    sha: "a".repeat(40),
    ref: "refs/pull/3/head",
    pullRequest: 3,
    headRepositoryFullName: "fork/app",
    trigger: "octocat",
  },
};

export interface QueueContractOptions {
  /** Receives after which a message is dead-lettered. */
  maxReceives: number;
  log: (line: string) => void;
}

/**
 * A fresh, empty queue (and dead-letter queue) per call, of job messages or of the kind
 * given; closed by the suite.
 */
export interface MakeQueue {
  (options: QueueContractOptions): Promise<InspectableQueue>;
  <M>(options: QueueContractOptions & { kind: MessageKind<M> }): Promise<InspectableQueue<M>>;
}

/** The behaviour every Queue adapter must have, run unchanged against each of them. */
export function defineQueueContract(name: string, makeQueue: MakeQueue): void {
  async function withQueue(
    fn: (queue: InspectableQueue, lines: string[]) => Promise<void>,
    maxReceives = 3,
  ) {
    const lines: string[] = [];
    const queue = await makeQueue({ maxReceives, log: (line) => lines.push(line) });
    try {
      await fn(queue, lines);
    } finally {
      await queue.close();
    }
  }

  async function receiveUntil(queue: InspectableQueue, visibilitySeconds = 1, waitSeconds = 3) {
    return queue.receive({ maxMessages: 10, waitSeconds, visibilitySeconds });
  }

  describe(`Queue contract: ${name}`, () => {
    it("delivers a sent message intact, once, and forgets it after delete", async () => {
      await withQueue(async (queue) => {
        const message = aJobMessage({ pullRequest: 3, event: "pull_request" });
        const id = await queue.send(message);
        const [got, ...rest] = await receiveUntil(queue, 1);
        assert.equal(rest.length, 0);
        assert.ok(got);
        assert.equal(got.messageId, id);
        assert.equal(got.receiveCount, 1);
        assert.deepEqual(got.body, message);
        await queue.delete(got.receipt);
        // Waiting past the second its receipt hid it for: it never comes back.
        assert.deepEqual(await queue.receive({ waitSeconds: 2 }), []);
      });
    });

    it("sends a batch and returns one id per message", async () => {
      await withQueue(async (queue) => {
        const messages = [aJobMessage(), aJobMessage(), aJobMessage()];
        const ids = await queue.sendBatch(messages);
        assert.equal(ids.length, 3);
        const got: JobMessage[] = [];
        for (let i = 0; i < 5 && got.length < 3; i++) {
          for (const r of await receiveUntil(queue, 30, 1)) got.push(r.body);
        }
        const byId = (m: JobMessage) => m.jobId;
        assert.deepEqual(got.map(byId).sort(), messages.map(byId).sort());
      });
    });

    it("refuses to send a message that does not match the schema", async () => {
      await withQueue(async (queue) => {
        const bad = { ...aJobMessage(), sha: "not-a-sha" };
        await assert.rejects(queue.send(bad), InvalidMessageError);
      });
    });

    it("long-polls: a receive waiting returns a message sent meanwhile", async () => {
      await withQueue(async (queue) => {
        const message = aJobMessage();
        const pending = queue.receive({ waitSeconds: 5, visibilitySeconds: 30 });
        await sleep(300);
        await queue.send(message);
        const [got] = await pending;
        assert.equal(got?.body.jobId, message.jobId);
      });
    });

    it("redelivers a message whose visibility expired, with a higher receive count", async () => {
      await withQueue(async (queue) => {
        const id = await queue.send(aJobMessage());
        const [first] = await receiveUntil(queue, 3);
        assert.equal(first?.messageId, id);
        assert.deepEqual(await queue.receive({ waitSeconds: 0 }), [], "hidden while visible");
        // A long poll: answered when the 3 s are up and the message is back.
        const [second] = await receiveUntil(queue, 1, 10);
        assert.equal(second?.messageId, id);
        assert.equal(second?.receiveCount, 2);
        assert.notEqual(second?.receipt, first?.receipt);
      });
    });

    it("keeps a message hidden while its consumer sends heartbeats", async () => {
      await withQueue(async (queue) => {
        await queue.send(aJobMessage());
        // Seconds wide enough that a slow machine's round trips stay inside each extension;
        // the loop runs past twice the first visibility, so only the heartbeats can hide it.
        const visibility = 4;
        const [got] = await receiveUntil(queue, visibility);
        const receivedAt = Date.now();
        assert.ok(got);
        for (let i = 0; Date.now() - receivedAt < 2.5 * visibility * 1000 || i < 3; i++) {
          await queue.extendVisibility(got.receipt, visibility);
          await sleep(1000);
          assert.deepEqual(await queue.receive({ waitSeconds: 0 }), [], `heartbeat ${i}`);
        }
        await queue.delete(got.receipt);
      });
    });

    it("dead-letters a message received more than maxReceives times", async () => {
      await withQueue(async (queue) => {
        const message = aJobMessage();
        const id = await queue.send(message);
        // Each long poll is answered when the last receipt's second is up.
        for (let n = 1; n <= 2; n++) {
          const [got] = await receiveUntil(queue, 1);
          assert.equal(got?.receiveCount, n);
        }
        assert.deepEqual(await receiveUntil(queue, 1, 3), [], "not delivered a third time");
        const dead = await waitForDeadLetters(queue, 1);
        assert.equal(dead.length, 1);
        assert.equal(dead[0]?.messageId, id);
        assert.deepEqual(JSON.parse(dead[0]!.rawBody), message);
      }, 2);
    });

    it("moves malformed bodies to the dead-letter queue with a log line, and goes on", async () => {
      await withQueue(async (queue, lines) => {
        const notJson = await queue.sendRaw("{ this is not json");
        const wrongShape = await queue.sendRaw(JSON.stringify({ version: 2, jobId: "x" }));
        const good = aJobMessage();
        await queue.send(good);
        const received: string[] = [];
        for (let i = 0; i < 4 && received.length === 0; i++) {
          for (const r of await receiveUntil(queue, 30, 1)) received.push(r.body.jobId);
        }
        assert.deepEqual(received, [good.jobId]);
        const dead = await waitForDeadLetters(queue, 2);
        assert.deepEqual(
          dead.map((d) => d.rawBody).sort(),
          ["{ this is not json", JSON.stringify({ version: 2, jobId: "x" })].sort(),
        );
        const log = lines.join("\n");
        assert.match(log, new RegExp(`${notJson}.*not JSON`));
        assert.match(
          log,
          new RegExp(
            `${wrongShape}.*a job message of version 2, from a newer Kozmic \\(this one reads up to version 1\\)`,
          ),
        );
      });
    });

    it("a planning queue carries planning messages and dead-letters a job message sent to it", async () => {
      const lines: string[] = [];
      const queue = await makeQueue({
        maxReceives: 3,
        log: (l) => lines.push(l),
        kind: PLAN_MESSAGES,
      });
      try {
        await assert.rejects(
          queue.send({ ...PLAN, task: { ...PLAN.task, sha: "nope" } } as PlanMessage),
          /refusing to send an invalid planning message/,
        );
        const stray = await queue.sendRaw(JSON.stringify(aJobMessage()));
        await queue.send(PLAN);
        const received = [];
        for (let i = 0; i < 4 && received.length === 0; i++) {
          received.push(
            ...(await queue.receive({ maxMessages: 10, waitSeconds: 1, visibilitySeconds: 30 })),
          );
        }
        assert.deepEqual(
          received.map((r) => r.body),
          [PLAN],
        );
        await waitForDeadLetters(queue, 1);
        assert.match(lines.join("\n"), new RegExp(`${stray}.*not a planning message`));
      } finally {
        await queue.close();
      }
    });
  });
}

async function waitForDeadLetters<M>(queue: InspectableQueue<M>, count: number) {
  const all = [];
  for (let i = 0; i < 20 && all.length < count; i++) {
    all.push(...(await queue.receiveDeadLetters(10)));
    if (all.length < count) await sleep(200);
  }
  return all;
}
