import type { IncomingMessage, ServerResponse } from "node:http";

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

function securityHeaders(githubWebUrl: string): Record<string, string> {
  return {
    "content-security-policy": `default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self' ${githubWebUrl}; base-uri 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    // What a page shows depends on who asks: never let a shared cache keep it.
    "cache-control": "private, no-store",
    vary: "Cookie",
  };
}

export function sendBody(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  githubWebUrl: string,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, {
    ...securityHeaders(githubWebUrl),
    "content-type": type,
    "content-length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

export function startStream(
  res: ServerResponse,
  type: string,
  githubWebUrl: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(200, { ...securityHeaders(githubWebUrl), "content-type": type, ...headers });
}

export function redirect(
  res: ServerResponse,
  status: 302 | 303,
  location: string,
  cookies: string[] = [],
): void {
  res.writeHead(status, {
    location,
    "cache-control": "private, no-store",
    ...(cookies.length ? { "set-cookie": cookies } : {}),
  });
  res.end();
}

/** Writes and waits for the socket when its buffer is full, so a slow reader slows the stream. */
export async function writeAndDrain(res: ServerResponse, data: string): Promise<void> {
  if (res.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** A urlencoded form body of at most `maxBytes`. */
export async function readForm(req: IncomingMessage, maxBytes = 8192): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "Send the form as application/x-www-form-urlencoded.");
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `The form is larger than ${maxBytes} bytes.`);
    parts.push(part as Buffer);
  }
  return new URLSearchParams(Buffer.concat(parts).toString("utf8"));
}
