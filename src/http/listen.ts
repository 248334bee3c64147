import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";

export interface Listening {
  /** `http://<host>:<port>`, as bound (0.0.0.0 for every interface). */
  url: string;
  port: number;
  server: Server;
  /** Stops taking connections; resolves once the requests in flight are answered. */
  close(): Promise<void>;
}

/**
 * A Hono app's `fetch` on a Node HTTP server (@hono/node-server), listening at `host` and
 * `port` (0 picks a free port). A body left unread after an answer (a refused upload) is
 * drained briefly, then the connection is closed, so the sender reads the answer.
 */
export async function listen(
  fetch: Parameters<typeof createAdaptorServer>[0]["fetch"],
  at: { host: string; port: number },
): Promise<Listening> {
  // The process's Request and Response stay Node's own.
  const server = createAdaptorServer({ fetch, overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => resolve());
  });
  const { port, address, family } = server.address() as AddressInfo;
  return {
    url: `http://${family === "IPv6" ? `[${address}]` : address}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
