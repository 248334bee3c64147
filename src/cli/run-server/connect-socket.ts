import type { Socket } from "node:net";

/** A connection to a Unix socket; "absent" when nothing listens there, undefined on other errors. */
export async function connectSocket(path: string): Promise<Socket | "absent" | undefined> {
  // Loaded here, not with the module: a run with KOZMIC_RUN_SERVER=off never pays its 4 ms.
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ENOENT" || error.code === "ECONNREFUSED" ? "absent" : undefined);
    });
  });
}
