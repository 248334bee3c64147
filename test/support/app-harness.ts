import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedQueue } from "../../src/queue/embedded-queue.js";
import type { InspectableQueue } from "../../src/queue/port.js";
import { openEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/port.js";
import type { JobMessage } from "../../src/core/job-message.js";
import type { AppTools, Handler } from "../../src/index.js";
import { FakeGitHub, generateAppKey, type FakeRepository } from "./fake-github/index.js";
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
    readonly store: Store,
    readonly app: StartedApp,
    private readonly dir: string,
  ) {}

  static async start(
    options: {
      enterprise?: boolean;
      handlersFor?: (app: AppTools, store: Store) => Handler[];
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
    const store = openEmbeddedStore({ dataDir: dir });
    const app = await startApp({
      fake,
      appKey: key,
      queue,
      store,
      ...(options.handlersFor
        ? { handlersFor: (tools: AppTools) => options.handlersFor!(tools, store) }
        : {}),
    });
    return new AppHarness(fake, queue, store, app, dir);
  }

  async stop(): Promise<void> {
    await this.app.stop();
    await this.fake.close();
    await this.queue.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new repository on the fake, installed, with a commit holding `files` on main. */
  repository(
    files: Record<string, string> | undefined = { ".github/kozmic.yml": HOOKS_YML },
    options: { private?: boolean } = {},
  ): { target: TargetRepository; fake: FakeRepository; sha: string } {
    this.repoCounter += 1;
    const fullName = `acme/repo-${this.repoCounter}`;
    const fake = this.fake.addRepository({
      fullName,
      installationId: 77,
      ...(options.private ? { private: true } : {}),
    });
    const sha = newSha();
    this.fake.addCommit(fullName, sha, files ?? {}, "main");
    return {
      target: { fullName, id: fake.id, installationId: 77, private: options.private ?? false },
      fake,
      sha,
    };
  }

  /**
   * Signs and POSTs a delivery to the running app; returns the status and body once the
   * app's work on it is done, also when that work outlived the answer (see assertHandled).
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

  /**
   * A delivery whose handling failed: 500, or (past Octokit's 9 s deadline on a loaded
   * machine) a 202 "still processing" whose work then failed, as the app's log says.
   */
  assertFailed(res: { status: number; body: string; id: string }): void {
    if (res.status === 202 && /still processing/.test(res.body)) {
      const failed = this.app.logs.some(
        (l) => l.deliveryId === res.id && typeof l.msg === "string" && /failed/.test(l.msg),
      );
      assert.ok(failed, `delivery ${res.id} answered 202 and its work did not fail`);
      return;
    }
    assert.equal(res.status, 500, res.body);
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

/**
 * A delivery the app handled: 200, or Octokit's 202 "still processing" when the work took
 * longer than its 9 s answer deadline (a loaded machine) and went on after the answer;
 * `deliver` waited for it either way.
 */
export function assertHandled(res: { status: number; body: string }): void {
  if (res.status === 202 && /still processing/.test(res.body)) return;
  assert.equal(res.status, 200, res.body);
}
