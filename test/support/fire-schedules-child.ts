// A process that fires the due schedules of the embedded store in `argv[2]` at the time
// `argv[3]` (epoch ms), without the timer's lease, once `argv[4]` exists (so that several
// start together), and prints what it fired as JSON: test/integration/schedules.test.ts.
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fireDueSchedules } from "../../src/planner/fire-schedules.js";
import { lineLog } from "../../src/planner/planner-deps.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";

const [dataDir, at, go] = process.argv.slice(2) as [string, string, string];
const store = openEmbeddedStore({ dataDir, retention: false });
const planQueue = openEmbeddedQueue({
  dataDir,
  name: "plans",
  kind: PLAN_MESSAGES,
  maxReceives: 40,
  log: () => {},
});
while (!existsSync(go)) await sleep(5);
const fired = await fireDueSchedules({
  store,
  planQueue,
  now: () => Number(at),
  log: lineLog((line) => process.stderr.write(`${line}\n`)),
});
await planQueue.close();
await store.close();
process.stdout.write(JSON.stringify(fired));
