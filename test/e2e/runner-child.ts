// A runner in its own process, for tests that kill it or measure its memory. Config comes
// as JSON in KOZMIC_TEST_RUNNER; runner lines and `rss <bytes>` samples go to stdout.
// With `storage`, its queue and store are those (SQS and DynamoDB), else the embedded ones
// under dataDir. With `fakeEngine`, jobs run on the fake engine (image "base") from an empty
// checkout, and each claim and step prints an `event ...` line (see below) for the test to
// tally: stdout is a pipe, written synchronously, so a line printed is seen even after a
// SIGKILL.
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { jobQueueFrom } from "../../src/queue/open-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { storeFrom } from "../../src/store/open-store.js";
import type { StorageSettings } from "../../src/settings/storage-settings.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { FakeEngine } from "../support/fake-engine.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";
import { startRunner } from "../../runner/worker/start-runner.js";
import { claimObservingStore, standInSource } from "../support/fleet.js";
import { fastSettings } from "./runner-harness.js";

interface ChildConfig {
  dataDir: string;
  baseUrl: string;
  appId: number;
  privateKey: string;
  maxReceives: number;
  settings: Partial<RunnerSettings>;
  rssEveryMs?: number;
  storage?: StorageSettings;
  fakeEngine?: boolean;
}

const config = JSON.parse(process.env.KOZMIC_TEST_RUNNER ?? "") as ChildConfig;
const say = (line: string) => process.stdout.write(`${line}\n`);
const queue = config.storage
  ? jobQueueFrom(config.storage, say)
  : openEmbeddedQueue({ dataDir: config.dataDir, maxReceives: config.maxReceives, log: say });
const store = config.storage
  ? storeFrom(config.storage)
  : openEmbeddedStore({ dataDir: config.dataDir });

/**
 * The fake engine, saying `event step-start <job>` and `event step-end <job> <exit code>`
 * around each step it runs.
 */
class EventEngine extends FakeEngine {
  override async runStep(id: string, onOutput: (text: string) => void): Promise<number> {
    const job = this.containers.get(id)?.spec.labels["kozmic.job"] ?? "?";
    say(`event step-start ${job}`);
    const code = await super.runStep(id, onOutput);
    say(`event step-end ${job} ${code}`);
    return code;
  }
}
const engine = config.fakeEngine ? new EventEngine() : new DockerEngine();
if (engine instanceof FakeEngine) engine.addImage("base");

const settings = fastSettings(config.dataDir, config.settings);
const runner = startRunner({
  queue,
  // `event claim <job> <outcome> <owner> [<previous owner>]` for every claim's result.
  store: config.fakeEngine
    ? claimObservingStore(store, (jobId, result) =>
        say(
          `event claim ${jobId} ${result.outcome} ${runner.owner}` +
            (result.outcome === "taken-over" ? ` ${result.previousOwner}` : ""),
        ),
      )
    : store,
  engine,
  github: {
    appId: config.appId,
    privateKey: config.privateKey,
    baseUrl: config.baseUrl,
    octokitOptions: { paceWrites: false, retryAfterBaseValue: 1 },
    retryBaseMs: 100,
  },
  settings,
  log: say,
  ...(config.fakeEngine ? { fetchSource: standInSource } : {}),
});
const sampler = setInterval(
  () => say(`rss ${process.memoryUsage().rss}`),
  config.rssEveryMs ?? 100,
);
process.on("SIGTERM", () => {
  void runner.stop().then(async () => {
    clearInterval(sampler);
    await queue.close();
    await store.close();
    say("child stopped");
    process.exit(0);
  });
});
await runner.ready;
say(`child owner ${runner.owner}`);
say("child ready");
