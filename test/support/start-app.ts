import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { startKozmicServer } from "../../src/github/start-kozmic-server.js";
import type { KozmicAppDeps } from "../../src/github/kozmic-app.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { PlanMessage } from "../../src/core/plan-message.js";
import type { RetryPolicy } from "../../src/planner/plan-failure.js";
import type { Queue } from "../../src/queue/port.js";
import type { Store } from "../../src/store/port.js";
import type { FakeGitHub, TestAppKey } from "./fake-github/index.js";

export interface StartedApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Where GitHub posts deliveries: `${url}/api/github/webhooks`. */
  webhookUrl: string;
  secret: string;
  appId: number;
  /** Every log line the app wrote (pino JSON objects), newest last. */
  logs: Record<string, unknown>[];
  /** Resolves when no webhook work is running. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the app's real Node server (the code path of `kozmic serve`, its planner included)
 * on 127.0.0.1, port 0, against the fake GitHub (its Enterprise prefix included), with
 * write pacing on as in production (per installation, a burst then one a second; tests
 * of many writes may turn it off), rate-limit waits in milliseconds instead of seconds and
 * the planner's retries one second apart, doubling up to 5 s.
 */
export async function startApp(options: {
  fake: FakeGitHub;
  appKey: TestAppKey;
  queue: Queue<JobMessage>;
  planQueue: Queue<PlanMessage>;
  store: Store;
  paceWrites?: boolean;
  retry?: RetryPolicy;
  /** False: no planner in the server (a test runs its own, e.g. in a child to kill). */
  planner?: false;
  publicUrl?: string;
  pagesFor?: KozmicAppDeps["pagesFor"];
  newId?: () => string;
  now?: () => number;
}): Promise<StartedApp> {
  const secret = randomBytes(16).toString("hex");
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const server = await startKozmicServer(
    {
      appId: options.fake.appId,
      privateKey: options.appKey.privateKeyPem,
      webhookSecret: secret,
      port: 0,
      host: "127.0.0.1",
      baseUrl: options.fake.url,
      publicUrl: options.publicUrl ?? "https://kozmic.test",
      logLevel: "info",
      embeddedRunner: false,
    },
    {
      queue: options.queue,
      planQueue: options.planQueue,
      store: options.store,
      ...(options.pagesFor ? { pagesFor: options.pagesFor } : {}),
      ...(options.newId ? { newId: options.newId } : {}),
      ...(options.now ? { now: options.now } : {}),
      octokit: { paceWrites: options.paceWrites ?? true, retryAfterBaseValue: 1 },
      planner:
        options.planner === false
          ? false
          : { retry: options.retry ?? { baseSeconds: 1, maxSeconds: 5 }, pollWaitSeconds: 0.2 },
      log: pino({ level: "info" }, sink),
    },
  );
  return {
    url: server.url,
    webhookUrl: `${server.url}/api/github/webhooks`,
    secret,
    appId: options.fake.appId,
    logs,
    idle: () => server.idle(),
    stop: () => server.stop(),
  };
}
