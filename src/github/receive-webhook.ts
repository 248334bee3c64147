import { createHmac, timingSafeEqual } from "node:crypto";
import type { Logger } from "probot";
import type { WebhookDispatcher } from "./dispatch-webhook.js";

/** GitHub caps webhook payloads at 25 MB and drops larger ones itself. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;
/** The whole body must arrive within this; GitHub gives its delivery 10 s in all. */
export const WEBHOOK_BODY_TIMEOUT_MS = 10_000;

export interface WebhookDelivery {
  /** `x-github-delivery`, `x-github-event`, `x-hub-signature-256`, as received. */
  id: string | undefined;
  name: string | undefined;
  signature: string | undefined;
  body: Buffer;
}

export interface WebhookAnswer {
  status: number;
  body: { ok: true } | { error: string };
}

/**
 * One webhook delivery, in the order a hostile sender cannot exploit: the headers, then the
 * signature over the raw bytes (before anything is parsed or logged), then the JSON, then
 * the handlers, which only record and enqueue. 202 when accepted; 400 for a body or
 * payload a person must fix, 401 for a bad signature (one log line, never the body), 500
 * when our own store or queue failed (GitHub's "Redeliver" can then try again).
 */
export async function receiveWebhook(
  dispatch: WebhookDispatcher,
  secret: string,
  delivery: WebhookDelivery,
  log: Logger,
): Promise<WebhookAnswer> {
  const missing = [
    !delivery.id && "x-github-delivery",
    !delivery.name && "x-github-event",
    !delivery.signature && "x-hub-signature-256",
  ].filter(Boolean);
  if (missing.length > 0) {
    return refuse(400, `required headers missing: ${missing.join(", ")}`);
  }
  const { id, name } = { id: delivery.id!, name: delivery.name! };
  if (!signatureMatches(secret, delivery.body, delivery.signature!)) {
    log.warn(
      { deliveryId: id.slice(0, 100), event: name.slice(0, 100), bytes: delivery.body.length },
      "webhook refused: its signature does not match WEBHOOK_SECRET",
    );
    return refuse(401, "signature does not match the payload and the webhook secret");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(delivery.body.toString("utf8"));
  } catch (error) {
    return refuse(400, `the body is not JSON: ${(error as Error).message}`);
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    return refuse(400, "the body is not a JSON object");
  }
  try {
    await dispatch({ id, name, payload }, log);
    return { status: 202, body: { ok: true } };
  } catch (error) {
    // The dispatcher logged it, with the delivery id.
    const { name, message, status } = error as { name?: string; message?: string; status?: number };
    return refuse(status === 400 ? 400 : 500, `${name ?? "Error"}: ${message ?? "unknown error"}`);
  }
}

function refuse(status: number, error: string): WebhookAnswer {
  return { status, body: { error } };
}

/** `sha256=<hex HMAC of the raw body>`, compared in constant time. */
export function signatureMatches(secret: string, body: Buffer, signature: string): boolean {
  const expected = Buffer.from(
    `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    "utf8",
  );
  const given = Buffer.from(signature, "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
