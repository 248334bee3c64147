/**
 * The planner alone in a process of its own, over an embedded data dir (or `storage`: SQS and
 * DynamoDB) and the fake GitHub, so that a test can SIGKILL it midway. Settings come as JSON
 * in KOZMIC_TEST_PLANNER.
 * Prints "ready" once receiving; a planned or failed delivery is one stderr line.
 */
import { installationOctokits } from "../../src/planner/installation-octokits.js";
import { lineLog } from "../../src/planner/planner-deps.js";
import { startPlanner } from "../../src/planner/start-planner.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { jobQueueFrom, planQueueFrom } from "../../src/queue/open-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import type { StorageSettings } from "../../src/settings/storage-settings.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { storeFrom } from "../../src/store/open-store.js";

const settings = JSON.parse(process.env.KOZMIC_TEST_PLANNER ?? "{}") as {
  dataDir: string;
  appId: number;
  privateKey: string;
  baseUrl: string;
  publicUrl: string;
  visibilitySeconds: number;
  storage?: StorageSettings;
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const { storage } = settings;
const jobQueue = storage
  ? jobQueueFrom(storage, log)
  : openEmbeddedQueue({ dataDir: settings.dataDir, log });
const planQueue = storage
  ? planQueueFrom(storage, log)
  : openEmbeddedQueue({
      dataDir: settings.dataDir,
      name: "plans",
      kind: PLAN_MESSAGES,
      maxReceives: 40,
      log,
    });
const store = storage ? storeFrom(storage) : openEmbeddedStore({ dataDir: settings.dataDir });
const planner = startPlanner({
  queue: planQueue,
  visibilitySeconds: settings.visibilitySeconds,
  pollWaitSeconds: 0.2,
  retry: { baseSeconds: 1, maxSeconds: 5 },
  deps: {
    store,
    jobQueue,
    publicUrl: settings.publicUrl,
    // Production pacing: per installation, a burst then one write a second.
    octokitFor: installationOctokits({
      appId: settings.appId,
      privateKey: settings.privateKey,
      baseUrl: settings.baseUrl,
      octokitOptions: { retryAfterBaseValue: 1 },
    }),
    now: Date.now,
    log: lineLog(log),
  },
});
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void planner.stop().then(async () => {
    await jobQueue.close();
    await planQueue.close();
    await store.close();
    process.exit(0);
  });
});
