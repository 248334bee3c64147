/**
 * The app's webhook server alone in a process of its own (no planner: deliveries are
 * verified, recorded and put on the planning queue), on a fixed port so that a test can
 * SIGKILL it and start it again at the same address. Settings come as JSON in
 * KOZMIC_TEST_APP; prints "ready" once listening.
 */
import { startKozmicServer } from "../../src/github/start-kozmic-server.js";
import { jobQueueFrom, planQueueFrom } from "../../src/queue/open-queue.js";
import type { StorageSettings } from "../../src/settings/storage-settings.js";
import { storeFrom } from "../../src/store/open-store.js";

const settings = JSON.parse(process.env.KOZMIC_TEST_APP ?? "{}") as {
  port: number;
  appId: number;
  privateKey: string;
  webhookSecret: string;
  baseUrl: string;
  publicUrl: string;
  storage: StorageSettings;
};
const queue = jobQueueFrom(settings.storage);
const planQueue = planQueueFrom(settings.storage);
const store = storeFrom(settings.storage);
const server = await startKozmicServer(
  {
    appId: settings.appId,
    privateKey: settings.privateKey,
    webhookSecret: settings.webhookSecret,
    port: settings.port,
    host: "127.0.0.1",
    baseUrl: settings.baseUrl,
    publicUrl: settings.publicUrl,
    logLevel: "warn",
    embeddedRunner: false,
  },
  { queue, planQueue, store, planner: false },
);
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void server.stop().then(async () => {
    await queue.close();
    await planQueue.close();
    await store.close();
    process.exit(0);
  });
});
