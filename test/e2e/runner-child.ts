// A runner in its own process, for tests that kill it or measure its memory. Config comes
// as JSON in KOZMIC_TEST_RUNNER; runner lines and `rss <bytes>` samples go to stdout.
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import type { RunnerSettings } from "../../src/core/runner-settings.js";
import { startRunner } from "../../runner/worker/start-runner.js";
import { fastSettings } from "./runner-harness.js";

interface ChildConfig {
  dataDir: string;
  baseUrl: string;
  appId: number;
  privateKey: string;
  maxReceives: number;
  settings: Partial<RunnerSettings>;
  rssEveryMs?: number;
}

const config = JSON.parse(process.env.KOZMIC_TEST_RUNNER ?? "") as ChildConfig;
const say = (line: string) => process.stdout.write(`${line}\n`);
const queue = openEmbeddedQueue({
  dataDir: config.dataDir,
  maxReceives: config.maxReceives,
  log: say,
});
const store = openEmbeddedStore({ dataDir: config.dataDir });
const runner = startRunner({
  queue,
  store,
  engine: new DockerEngine(),
  github: {
    appId: config.appId,
    privateKey: config.privateKey,
    baseUrl: config.baseUrl,
    octokitOptions: { paceWrites: false, retryAfterBaseValue: 1 },
    retryBaseMs: 100,
  },
  settings: fastSettings(config.dataDir, config.settings),
  log: say,
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
say("child ready");
