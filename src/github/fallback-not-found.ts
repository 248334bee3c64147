import type { ServerResponse } from "node:http";

/**
 * The answer for a path no handler took: a fixed body, never the path (a reflected path
 * is a hostile page for a browser that sniffs it, and a log-injection vector).
 */
export const FALLBACK_NOT_FOUND = {
  statusCode: 404,
  headers: {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
  },
  body: "Not found.\n",
};

export function sendFallbackNotFound(res: ServerResponse): void {
  res.writeHead(FALLBACK_NOT_FOUND.statusCode, FALLBACK_NOT_FOUND.headers);
  res.end(FALLBACK_NOT_FOUND.body);
}
