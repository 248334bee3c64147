import { it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { aJobMessage } from "../support/job-fixtures.js";

const consumer = fileURLToPath(new URL("../support/queue-consumer.ts", import.meta.url));
const run = promisify(execFile);

it("gives each message to one of two processes sharing the embedded queue", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kozmic-procs-"));
  try {
    const queue = openEmbeddedQueue({ dataDir, name: "shared" });
    const messages = Array.from({ length: 1000 }, () => aJobMessage());
    await queue.sendBatch(messages);
    await queue.close();
    const outputs = await Promise.all(
      [1, 2].map(() => run(process.execPath, ["--import", "tsx", consumer, dataDir, "shared"])),
    );
    const seen = outputs.flatMap((o) => o.stdout.split("\n").filter(Boolean));
    assert.equal(new Set(seen).size, seen.length, "no message delivered twice");
    assert.deepEqual(seen.sort(), messages.map((m) => m.jobId).sort());
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
