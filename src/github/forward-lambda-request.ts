import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Handler } from "./kozmic-app.js";
import type { LambdaHttpEvent, LambdaHttpResult } from "./receive-lambda-event.js";
import { sendFallbackNotFound } from "./fallback-not-found.js";

/** Headers the loopback request sets itself. */
const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding"]);

export interface LoopbackPages {
  /** Answers one Lambda HTTP event with the handlers, as the Node server would. */
  forward(event: LambdaHttpEvent): Promise<LambdaHttpResult>;
  close(): Promise<void>;
}

/**
 * Serves Node HTTP handlers (the log pages) behind a Lambda HTTP event: a server on the
 * loopback interface of the Lambda's own container runs them, and each event becomes one
 * request to it. The handlers then run exactly as under `kozmic serve`.
 */
export async function startLoopbackPages(handlers: readonly Handler[]): Promise<LoopbackPages> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      for (const handler of handlers) {
        if ((await handler(req, res)) === true || res.headersSent) return;
      }
      sendFallbackNotFound(res);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`Internal error: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // The Lambda runtime decides when the container ends; an idle loopback server must not.
  server.unref();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    async forward(event) {
      const method = (
        event.requestContext?.http?.method ??
        event.httpMethod ??
        "GET"
      ).toUpperCase();
      const headers = new Headers();
      for (const [name, value] of Object.entries(event.headers ?? {})) {
        if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, value);
      }
      // HTTP APIs and function URLs pass cookies apart from the headers.
      if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));
      const body =
        method === "GET" || method === "HEAD" || !event.body
          ? undefined
          : Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
      const response = await fetch(`${origin}${pathOf(event)}`, {
        method,
        headers,
        ...(body ? { body } : {}),
        redirect: "manual",
      });
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie" && !HOP_BY_HOP.has(name)) out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      return {
        statusCode: response.status,
        headers: out,
        body: await response.text(),
        ...(cookies.length ? { cookies, multiValueHeaders: { "set-cookie": cookies } } : {}),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The request path with its query string, from either event format. */
function pathOf(event: LambdaHttpEvent): string {
  const path = event.rawPath ?? event.path ?? "/";
  if (event.rawQueryString) return `${path}?${event.rawQueryString}`;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
