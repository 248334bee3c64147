import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { Html } from "./html.js";

/** An answer with a status the client can act on; thrown by request parsing and access checks. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one source of the pages' security headers (the log pages' and the set-up page's): a CSP
 * allowing no inline code and forms posted only to `formAction`, no framing, no sniffing; and, unless a route says otherwise, no shared cache (what a page shows depends
 * on who asks). Badges are embedded by other sites, so resources stay loadable cross-origin.
 */
export function pageHeaders(formAction: string[]): MiddlewareHandler[] {
  return [
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction,
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: "same-origin",
      xFrameOptions: "DENY",
      crossOriginResourcePolicy: false,
      strictTransportSecurity: false,
    }),
    async (c, next) => {
      await next();
      if (!c.res.headers.has("cache-control"))
        c.res.headers.set("cache-control", "private, no-store");
      c.res.headers.set("vary", "Cookie");
    },
  ];
}

export function reply(
  status: number,
  type: string,
  body: string | null,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, { status, headers: { "content-type": type, ...headers } });
}

export function sendHtml(status: number, html: Html): Response {
  return reply(status, "text/html; charset=utf-8", html.toString());
}

export function redirect(status: 302 | 303, location: string, cookies: string[] = []): Response {
  const headers = new Headers({ location });
  for (const cookie of cookies) headers.append("set-cookie", cookie);
  return new Response(null, { status, headers });
}

/** A route's body limit: a larger form is refused with 413 before it is read. */
export function formLimit(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpError(413, `The form is larger than ${maxSize} bytes.`);
    },
  });
}

/**
 * A urlencoded form; its size is capped by the route's body limit (formLimit), so an
 * oversized form is refused with 413 before it is read.
 */
export async function readForm(c: Context): Promise<URLSearchParams> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "Send the form as application/x-www-form-urlencoded.");
  }
  return new URLSearchParams(await c.req.text());
}
