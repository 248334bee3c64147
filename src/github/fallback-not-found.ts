import type { ServerResponse } from "node:http";

/**
 * The answer for a path no handler took: a fixed body, never the path (a reflected path
 * is a hostile page for a browser that sniffs it, and a log-injection vector).
 */
export function sendFallbackNotFound(res: ServerResponse): void {
  res
    .writeHead(404, {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    })
    .end("Not found.\n");
}
