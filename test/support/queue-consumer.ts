// Drains the embedded queue named argv[3] under argv[2], acknowledging each message and
// printing its job id; used to show two processes never get the same message.
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";

const [dataDir, name] = process.argv.slice(2);
if (!dataDir || !name) throw new Error("usage: queue-consumer.ts <dataDir> <queue>");
const queue = openEmbeddedQueue({ dataDir, name });
for (;;) {
  const batch = await queue.receive({ maxMessages: 3, waitSeconds: 1, visibilitySeconds: 60 });
  if (batch.length === 0) break;
  for (const message of batch) {
    process.stdout.write(`${message.body.jobId}\n`);
    await queue.delete(message.receipt);
  }
}
await queue.close();
