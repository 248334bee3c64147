import type { Logger } from "probot";
import type { WebhookDispatcher } from "./dispatch-webhook.js";
import { MAX_WEBHOOK_BYTES, receiveWebhook } from "./receive-webhook.js";

/** The parts of an API Gateway (REST or HTTP API) or Lambda function URL event a webhook needs. */
export interface LambdaHttpEvent {
  headers?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  httpMethod?: string;
  /** `domainName`: the host the request came to (a function URL's own, set by Lambda). */
  requestContext?: { http?: { method?: string }; domainName?: string };
  /** HTTP API (payload 2.0) and function URLs. */
  rawPath?: string;
  rawQueryString?: string;
  cookies?: string[];
  /** REST API (payload 1.0). */
  path?: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** Set-Cookie values: `cookies` for HTTP APIs and function URLs, `multiValueHeaders` for REST. */
  cookies?: string[];
  multiValueHeaders?: Record<string, string[]>;
}

/**
 * Verifies and handles one webhook delivered as a Lambda HTTP event, answering as the Node
 * server does (receiveWebhook): 202, 400, 401 for a bad signature, 413 for a body over
 * GitHub's cap, 500 when our store or queue failed. Header names are matched without
 * regard to case.
 */
export async function receiveLambdaEvent(
  dispatch: WebhookDispatcher,
  secret: string,
  event: LambdaHttpEvent,
  log: Logger,
): Promise<LambdaHttpResult> {
  const method = event.requestContext?.http?.method ?? event.httpMethod ?? "POST";
  if (method.toUpperCase() !== "POST") {
    return answer(405, { error: `Unknown route: ${method}; GitHub webhooks are POSTed` });
  }
  const headers = new Map(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const body = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
  if (body.length > MAX_WEBHOOK_BYTES) {
    return answer(413, { error: "the body is larger than GitHub's 25 MB cap on webhook payloads" });
  }
  const result = await receiveWebhook(
    dispatch,
    secret,
    {
      id: headers.get("x-github-delivery"),
      name: headers.get("x-github-event"),
      signature: headers.get("x-hub-signature-256"),
      body,
    },
    log,
  );
  return answer(result.status, result.body);
}

function answer(statusCode: number, body: unknown): LambdaHttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
