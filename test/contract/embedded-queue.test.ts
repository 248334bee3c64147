import { after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import {
  defineQueueContract,
  type MakeQueue,
  type QueueContractOptions,
} from "./queue-contract.js";

const dir = mkdtempSync(join(tmpdir(), "kozmic-queue-"));
after(() => rmSync(dir, { recursive: true, force: true }));

defineQueueContract("embedded (SQLite)", (async (
  options: QueueContractOptions & { kind?: never },
) => openEmbeddedQueue({ dataDir: dir, name: `q-${randomUUID()}`, ...options })) as MakeQueue);
