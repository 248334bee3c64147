/**
 * The answer for a path nobody serves, on every server and in the Lambda: a fixed body,
 * never the path (a reflected path is a hostile page for a browser that sniffs it, and a
 * log-injection vector).
 */
export function notFound(): Response {
  return new Response("Not found.\n", {
    status: 404,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });
}
