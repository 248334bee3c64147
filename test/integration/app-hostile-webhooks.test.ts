import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { MAX_WEBHOOK_BYTES } from "../../src/github/receive-webhook.js";
import { AppHarness } from "../support/app-harness.js";
import { postDelivery, pushPayload, signDelivery } from "../support/webhooks.js";

/**
 * Sends a webhook POST by hand: `announce` as content-length (or chunked when absent),
 * `write` called with a function that writes to the request until the answer arrives.
 */
function rawPost(
  url: string,
  headers: Record<string, string>,
  write: (send: (chunk: Buffer) => boolean, answered: () => boolean) => Promise<void>,
): Promise<{ status: number; body: string; ms: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let done = false;
    const req = request(url, { method: "POST", headers }, (res) => {
      done = true;
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started, sent });
      });
    });
    req.on("error", (error) => {
      if (!done) reject(error);
    });
    void write(
      (chunk) => {
        if (done || req.destroyed) return false;
        sent += chunk.length;
        return req.write(chunk);
      },
      () => done,
    );
  });
}

const sign = (secret: string, body: string) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

describe("hostile input on the webhook endpoint", () => {
  let h: AppHarness;
  before(async () => {
    h = await AppHarness.start();
  });
  after(() => h.stop());

  const headers = (extra: Record<string, string> = {}) => ({
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": "sha256=" + "0".repeat(64),
    ...extra,
  });

  it("refuses a body announced over GitHub's 25 MB cap with 413 before reading it", async () => {
    const res = await rawPost(
      h.app.webhookUrl,
      headers({ "content-length": String(1024 ** 3) }),
      async (send) => {
        send(Buffer.from("0123456789"));
      },
    );
    assert.equal(res.status, 413, res.body);
    assert.match(res.body, /larger than 25 MB/);
    assert.equal(res.sent, 10);
  });

  it("refuses a chunked body with 413 as soon as it passes 25 MB, without waiting for the rest", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const res = await rawPost(h.app.webhookUrl, headers(), async (send, answered) => {
      // Up to 100 MB, unless the server answers first.
      for (let i = 0; i < 100 && !answered(); i++) {
        if (!send(chunk)) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    assert.equal(res.status, 413, res.body);
    assert.ok(res.sent < 100 * 1024 * 1024, "the server read the whole 100 MB");
    assert.ok(res.sent > MAX_WEBHOOK_BYTES, "refused before the cap was reached");
  });

  it("answers 408 to a body that stops arriving, and keeps serving others", async () => {
    const slow = rawPost(h.app.webhookUrl, headers({ "content-length": "100" }), async (send) => {
      send(Buffer.from('{"ref":'));
    });
    const { target, sha } = h.repository();
    const other = await postDelivery(
      h.app.webhookUrl,
      signDelivery("push", pushPayload(target, { sha }), h.app.secret),
    );
    assert.equal(other.status, 202, "another delivery waited behind the slow one");
    const res = await slow;
    assert.equal(res.status, 408, res.body);
    assert.match(res.body, /did not arrive within 10 s/);
    await h.app.idle();
    assert.equal((await h.drain()).length, 2, "the other delivery was built");
  });

  it("checks the signature before parsing: a bad one is one warning without the body", async () => {
    const marker = `secret-looking-${randomUUID()}`;
    const id = `bad-signature-${randomUUID()}`;
    const before = h.app.logs.length;
    const delivery = signDelivery("push", { marker, not: "json-checked" }, "wrong-secret", id);
    const bad = await postDelivery(h.app.webhookUrl, delivery);
    assert.equal(bad.status, 401);
    const unsignedGarbage = await rawPost(
      h.app.webhookUrl,
      headers({ "content-length": "12", "x-github-delivery": id }),
      async (send) => {
        send(Buffer.from("{ not json }"));
      },
    );
    assert.equal(unsignedGarbage.status, 401, "parsed before its signature was checked");
    const lines = h.app.logs.slice(before);
    assert.equal(lines.filter((l) => l.deliveryId === id).length, 2, "one line per bad delivery");
    for (const line of lines) {
      assert.equal(Number(line.level), 40, "a bad signature is a warning, not an error");
      assert.doesNotMatch(JSON.stringify(line), new RegExp(marker), "the body was logged");
    }
  });

  it("answers 400 to any malformed signed body: null, an array, not JSON, a wrong shape", async () => {
    for (const body of ["null", "[]", "{ not json", '"a string"', '{"ref": 7}']) {
      const res = await rawPost(
        h.app.webhookUrl,
        headers({
          "content-length": String(Buffer.byteLength(body)),
          "x-hub-signature-256": sign(h.app.secret, body),
        }),
        async (send) => {
          send(Buffer.from(body));
        },
      );
      assert.equal(res.status, 400, `${body}: ${res.status} ${res.body}`);
    }
    assert.deepEqual(await h.drain(), []);
    assert.deepEqual(await h.planQueue.receive({ maxMessages: 10 }), []);
  });
});
