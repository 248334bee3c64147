import { handle, type LambdaEvent } from "hono/aws-lambda";
import { isPagePath } from "../web/web-app.js";
import type { WebHandler } from "../web/create-web-handler.js";
import type { Handler } from "./kozmic-app.js";
import type { LambdaHttpEvent, LambdaHttpResult } from "./receive-lambda-event.js";
import { FALLBACK_NOT_FOUND } from "./fallback-not-found.js";

/**
 * Answers Lambda HTTP events with the log pages' Hono app (hono/aws-lambda), as the Node
 * server does; a path that is not a page's gets the fixed 404. `handlers` are the app's HTTP
 * handlers: in a Lambda, those are the pages (createWebHandler), each carrying its app.
 */
export function serveLambdaPages(
  handlers: readonly Handler[],
): (event: LambdaHttpEvent) => Promise<LambdaHttpResult> {
  if (handlers.length > 1) throw new Error("a Lambda serves one set of log pages");
  const [pages] = handlers;
  if (pages && !("app" in pages)) throw new Error("a Lambda serves only the log pages' Hono app");
  // Every page is text (HTML, SVG, CSS, scripts, logs, events): none is sent base64-encoded.
  const answer = pages && handle((pages as WebHandler).app, { isContentTypeBinary: () => false });
  return async (event) => {
    const request = asFunctionUrlEvent(event);
    if (!answer || !isPagePath(request.rawPath)) {
      return { ...FALLBACK_NOT_FOUND, headers: { ...FALLBACK_NOT_FOUND.headers } };
    }
    const result = await answer(request as unknown as LambdaEvent);
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
  const method = event.requestContext?.http?.method ?? event.httpMethod ?? "GET";
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(name, value);
  }
  return {
    ...event,
    rawPath: event.rawPath ?? event.path ?? "/",
    rawQueryString: event.rawQueryString ?? query.toString(),
    requestContext: { ...event.requestContext, http: { method } },
  };
}
