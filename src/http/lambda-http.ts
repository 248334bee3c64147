import type { Hono } from "hono";
import { handle, type LambdaEvent } from "hono/aws-lambda";

/** Where GitHub posts deliveries; a Lambda event without a path is one of them. */
export const WEBHOOK_PATH = "/api/github/webhooks";

/** The parts of an API Gateway (REST or HTTP API) or Lambda function URL event the app reads. */
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
 * A Hono app as a Lambda HTTP handler (hono/aws-lambda), answering as on Node. Responses are
 * buffered (the function URL's default invoke mode), and every answer is text: none is sent
 * base64-encoded. An event carrying `x-github-event`, or no path at all, is a webhook delivery.
 */
export function lambdaHttpHandler(
  app: Hono,
): (event: LambdaHttpEvent) => Promise<LambdaHttpResult> {
  const answer = handle(app, { isContentTypeBinary: () => false });
  return async (event) => {
    const result = await answer(asFunctionUrlEvent(event) as unknown as LambdaEvent);
    const cookies = result.cookies ?? [];
    return {
      statusCode: result.statusCode,
      headers: ("headers" in result ? result.headers : {}) as Record<string, string>,
      body: result.body,
      // Function URLs and HTTP APIs read `cookies`, REST APIs `multiValueHeaders`.
      ...(cookies.length ? { cookies, multiValueHeaders: { "set-cookie": cookies } } : {}),
    };
  };
}

/**
 * The event as a function URL's (payload 2.0), the format the adapter reads paths from as
 * sent: a REST API's (payload 1.0) path and query parameters become its raw path and query.
 */
function asFunctionUrlEvent(event: LambdaHttpEvent) {
  const delivery = Object.keys(event.headers ?? {}).some((h) => /^x-github-event$/i.test(h));
  const path = event.rawPath ?? event.path;
  const rawPath = delivery || path === undefined ? WEBHOOK_PATH : path;
  const method =
    event.requestContext?.http?.method ??
    event.httpMethod ??
    (rawPath === WEBHOOK_PATH ? "POST" : "GET");
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(name, value);
  }
  return {
    ...event,
    rawPath,
    rawQueryString: event.rawQueryString ?? query.toString(),
    requestContext: { ...event.requestContext, http: { method } },
  };
}
