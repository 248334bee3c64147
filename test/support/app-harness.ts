import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlanMessage } from "../../src/core/plan-message.js";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import { PLAN_MESSAGES } from "../../src/queue/parse-message-body.js";
import type { InspectableQueue } from "../../src/queue/port.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { AppTools, Pages } from "../../src/github/kozmic-app.js";
import {
  FakeGitHub,
  generateAppKey,
  type FakeRepository,
  type TestAppKey,
} from "./fake-github/index.js";
import { startApp, type StartedApp } from "./start-app.js";
import { postDelivery, signDelivery, type TargetRepository } from "./webhooks.js";

export const HOOKS_YML = [
  "hooks:",
  "  - name: test",
  "    image: alpine:3",
  "    build: npm test",
  "  - name: lint",
  "    image: alpine:3",
  "    build: npm run lint",
  "",
].join("\n");

let shaCounter = 0;
/** A fresh 40-hex commit id, unique within the process. */
export function newSha(): string {
  shaCounter += 1;
  return (Date.now().toString(16) + shaCounter.toString(16).padStart(6, "0")).padStart(40, "a");
}

/** The fake GitHub, an embedded queue and store in a temp dir, and the app's server. */
export class AppHarness {
  private repoCounter = 0;
  private constructor(
    readonly fake: FakeGitHub,
    readonly queue: InspectableQueue,
    readonly planQueue: InspectableQueue<PlanMessage>,
    readonly store: Store,
    readonly app: StartedApp,
    readonly dir: string,
    readonly appKey: TestAppKey,
  ) {}

  static async start(
    options: {
      enterprise?: boolean;
      pagesFor?: (app: AppTools, store: Store) => Pages;
      /** Octokit's write pacing, on as in production unless a test turns it off. */
      paceWrites?: boolean;
      /** False: the server runs no planner (the test runs one itself). */
      planner?: false;
    } = {},
  ): Promise<AppHarness> {
    const key = generateAppKey();
    const fake = await FakeGitHub.start({
      appPublicKey: key.publicKeyPem,
      appId: 4242,
      ...(options.enterprise ? { enterprise: true, description: "ghes-3.17" as const } : {}),
    });
    const dir = mkdtempSync(join(tmpdir(), "kozmic-app-"));
    const queue = openEmbeddedQueue({ dataDir: dir, log: () => {} });
    const planQueue = openEmbeddedQueue({
      dataDir: dir,
      name: "plans",
      kind: PLAN_MESSAGES,
      maxReceives: 40,
      log: () => {},
    });
    const store = openEmbeddedStore({ dataDir: dir });
    const app = await startApp({
      fake,
      appKey: key,
      queue,
      planQueue,
      store,
      ...(options.paceWrites !== undefined ? { paceWrites: options.paceWrites } : {}),
      ...(options.planner === false ? { planner: false as const } : {}),
      ...(options.pagesFor
        ? { pagesFor: (tools: AppTools) => options.pagesFor!(tools, store) }
        : {}),
    });
    return new AppHarness(fake, queue, planQueue, store, app, dir, key);
  }

  async stop(): Promise<void> {
    await this.app.stop();
    await this.fake.close();
    await this.queue.close();
    await this.planQueue.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new repository on the fake, installed, with a commit holding `files` on main. */
  repository(
    files: Record<string, string> | undefined = { ".github/kozmic.yml": HOOKS_YML },
    options: { private?: boolean; installationId?: number } = {},
  ): { target: TargetRepository; fake: FakeRepository; sha: string } {
    const installationId = options.installationId ?? 77;
    this.repoCounter += 1;
    const fullName = `acme/repo-${this.repoCounter}`;
    const fake = this.fake.addRepository({
      fullName,
      installationId,
      ...(options.private ? { private: true } : {}),
    });
    const sha = newSha();
    this.fake.addCommit(fullName, sha, files ?? {}, "main");
    return {
      target: { fullName, id: fake.id, installationId, private: options.private ?? false },
      fake,
      sha,
    };
  }

  /**
   * Signs and POSTs a delivery to the running app; returns the status and body once the
   * planner has done the delivery's GitHub work (or given up on it for now).
   */
  async deliver(
    name: string,
    payload: Record<string, unknown>,
    options: { id?: string; secret?: string } = {},
  ): Promise<{ status: number; body: string; id: string }> {
    const delivery = signDelivery(name, payload, options.secret ?? this.app.secret, options.id);
    const response = await postDelivery(this.app.webhookUrl, delivery);
    const body = await response.text();
    await this.app.idle();
    return { status: response.status, body, id: delivery.id };
  }

  /** Polls `check` until it returns a value other than undefined or false; fails after `ms`. */
  async eventually<T>(
    what: string,
    check: () => T | undefined | false | Promise<T | undefined | false>,
    ms = 120_000,
  ): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) {
        const problems = this.app.logs.filter((l) => Number(l.level) >= 40).map((l) => l.msg);
        assert.fail(`${what}: not within ${ms / 1000} s; app warnings: ${problems.join(" | ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every message now on the queue (received and deleted). */
  async drain(): Promise<JobMessage[]> {
    const out: JobMessage[] = [];
    for (;;) {
      const batch = await this.queue.receive({ maxMessages: 10, visibilitySeconds: 60 });
      if (batch.length === 0) return out;
      for (const message of batch) {
        out.push(message.body);
        await this.queue.delete(message.receipt);
      }
    }
  }
}

/** A delivery the app accepted: verified, recorded and handed to the planner (202). */
export function assertHandled(res: { status: number; body: string }): void {
  assert.equal(res.status, 202, res.body);
}
