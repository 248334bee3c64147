import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { Probot } from "probot";
import { generateAppKey } from "../support/fake-github/index.js";
import {
  checkRunPayload,
  installationRepositoriesPayload,
  pullRequestPayload,
  pushPayload,
  signDelivery,
} from "../support/webhooks.js";

const repo = { fullName: "acme/widgets", id: 501, installationId: 7, private: true };
const SHA = "c".repeat(40);
const key = generateAppKey();

async function probot(secret: string): Promise<Probot> {
  const app = new Probot({ appId: 42, privateKey: key.privateKeyPem, secret });
  await app.ready();
  return app;
}

describe("test webhook deliveries", () => {
  it("builds a push from GitHub's example, adjusted to the repository, commit and installation", () => {
    const payload = pushPayload(repo, { sha: SHA, branch: "dev", message: "Fix [skip ci]" });
    assert.equal(payload.ref, "refs/heads/dev");
    assert.equal(payload.after, SHA);
    assert.deepEqual(payload.installation, {
      id: 7,
      node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u7",
    });
    const repository = payload.repository as Record<string, unknown>;
    assert.equal(repository.full_name, "acme/widgets");
    assert.equal(repository.private, true);
    assert.equal((payload.head_commit as { message: string }).message, "Fix [skip ci]");
    // Fields we did not touch come from the real example.
    assert.ok(typeof payload.compare === "string");
    assert.ok(typeof (payload.pusher as { name: string }).name === "string");
  });

  it("builds tag pushes, branch deletions and fork pull requests", () => {
    assert.equal(pushPayload(repo, { sha: SHA, tag: "v1" }).ref, "refs/tags/v1");
    const deletion = pushPayload(repo, { sha: SHA, deleted: true });
    assert.equal(deletion.deleted, true);
    assert.equal(deletion.head_commit, null);
    const pr = pullRequestPayload(repo, {
      action: "synchronize",
      number: 9,
      sha: SHA,
      fork: { fullName: "mallory/widgets", id: 900 },
    });
    const pull = pr.pull_request as { head: { repo: { fork: boolean; full_name: string } } };
    assert.equal(pr.action, "synchronize");
    assert.equal(pull.head.repo.fork, true);
    assert.equal(pull.head.repo.full_name, "mallory/widgets");
    const cancel = checkRunPayload(repo, {
      action: "requested_action",
      checkRunId: 3,
      sha: SHA,
      externalId: "job-1",
    });
    assert.deepEqual(cancel.requested_action, { identifier: "cancel" });
    const added = installationRepositoriesPayload("added", 7, "acme", [repo]);
    assert.equal(
      (added.repositories_added as { full_name: string }[])[0]?.full_name,
      "acme/widgets",
    );
  });

  it("signs deliveries so that Probot's own verification accepts them", async () => {
    const app = await probot("s3cret");
    const received: string[] = [];
    app.webhooks.on("push", (event) => {
      received.push(`${event.id} ${event.payload.after}`);
    });
    const id = randomUUID();
    const delivery = signDelivery("push", pushPayload(repo, { sha: SHA }), "s3cret", id);
    assert.equal(delivery.headers["x-github-delivery"], id);
    assert.equal(delivery.headers["x-github-event"], "push");
    await app.webhooks.verifyAndReceive({
      id,
      name: "push",
      payload: delivery.body,
      signature: delivery.headers["x-hub-signature-256"]!,
    });
    assert.deepEqual(received, [`${id} ${SHA}`]);
  });

  it("a delivery signed with another secret is refused by Probot", async () => {
    const app = await probot("s3cret");
    let handled = false;
    app.webhooks.on("push", () => {
      handled = true;
    });
    const id = randomUUID();
    const delivery = signDelivery("push", pushPayload(repo, { sha: SHA }), "wrong", id);
    await assert.rejects(
      app.webhooks.verifyAndReceive({
        id,
        name: "push",
        payload: delivery.body,
        signature: delivery.headers["x-hub-signature-256"]!,
      }),
      /signature does not match/i,
    );
    assert.equal(handled, false);
  });
});
