import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pino } from "pino";
import { startKozmicServer } from "../../src/github/start-kozmic-server.js";
import type { AppTools, Handler } from "../../src/index.js";
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
 * Runs the app's real Node server (the code path of `kozmic serve`) on 127.0.0.1, port 0,
 * against the fake GitHub (its Enterprise prefix included), with Octokit's write pacing off
 * and rate-limit waits in milliseconds instead of seconds.
 */
export async function startApp(options: {
  fake: FakeGitHub;
  appKey: TestAppKey;
  queue: Queue;
  store: Store;
  publicUrl?: string;
  handlers?: Handler[];
  handlersFor?: (app: AppTools) => Handler[];
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
      store: options.store,
      ...(options.handlers ? { handlers: options.handlers } : {}),
      ...(options.handlersFor ? { handlersFor: options.handlersFor } : {}),
      ...(options.newId ? { newId: options.newId } : {}),
      ...(options.now ? { now: options.now } : {}),
      octokit: { paceWrites: false, retryAfterBaseValue: 1 },
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
