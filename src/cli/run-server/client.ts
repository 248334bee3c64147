import type { Socket } from "node:net";
import { BUILD_ID } from "../build-id.js";
import { locateServer, type ServerPaths } from "./address.js";
import { connectSocket } from "./connect-socket.js";
import { encodeFrame, FRAME, FrameReader, type RunRequest } from "./frames.js";

/**
 * `kozmic run` through this user's run server, which has Kozmic's code loaded already:
 * the run's exit code, or undefined when it was not served and must run in this process
 * (no server yet, one busy with another run, KOZMIC_RUN_SERVER=off or not understood, or a
 * build without a build id). When there is no server, one is started for the next run.
 * Output, exit code, the environment, directory and umask are this process's; Ctrl-C and
 * SIGTERM cancel the run as they would in-process, and this process's end (even by
 * SIGKILL) cancels it too.
 */
export async function runServed(args: string[]): Promise<number | undefined> {
  const setting = process.env.KOZMIC_RUN_SERVER?.trim();
  // Anything but on or off is reported by the run itself, as other bad settings are.
  if (!BUILD_ID || (setting && setting !== "on")) return undefined;
  const where = locateServer(BUILD_ID);
  if (!where || !("paths" in where)) return undefined;
  const { paths } = where;
  const socket = await connectSocket(paths.socket);
  if (socket === "absent") {
    // Loaded only here: node:child_process costs every run a few ms.
    const { startServer } = await import("./start-server.js");
    startServer(paths, process.argv[1]!);
    return undefined;
  }
  if (!socket) return undefined;
  return relay(socket, args, paths);
}

function relay(socket: Socket, args: string[], paths: ServerPaths): Promise<number | undefined> {
  const request: RunRequest = {
    argv: args,
    cwd: process.cwd(),
    env: Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
    ),
    umask: process.umask(),
  };
  return new Promise((resolve) => {
    const reader = new FrameReader();
    let accepted = false;
    let signalled: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (!signalled) {
        signalled = signal;
        socket.write(encodeFrame(FRAME.cancel));
        return;
      }
      // A second one: stop waiting for the run's cleanup, as an in-process run would die.
      socket.destroy();
      process.exit(signalExitCode(signal));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let settled = false;
    const settle = (code: number | undefined) => {
      if (settled) return;
      settled = true;
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      socket.destroy();
      resolve(code);
    };
    // Not served: the run is this process's to do, unless Ctrl-C came first (in-process, it
    // would have ended the command before the run began).
    const notServed = () => settle(signalled ? signalExitCode(signalled) : undefined);
    const broken = () => {
      if (settled) return;
      if (!accepted) return notServed();
      process.stderr.write(
        `kozmic run: the run server stopped before the run ended; its log is ${paths.log}. ` +
          "Run again; with KOZMIC_RUN_SERVER=off the run is done in this process instead.\n",
      );
      settle(3);
    };
    socket.on("data", (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch {
        return broken();
      }
      for (const frame of frames) {
        if (frame.type === FRAME.stdout) process.stdout.write(frame.payload);
        else if (frame.type === FRAME.stderr) process.stderr.write(frame.payload);
        else if (frame.type === FRAME.accepted) accepted = true;
        else if (frame.type === FRAME.declined) return notServed();
        else if (frame.type === FRAME.exit) {
          const code = Number(frame.payload.toString("utf8"));
          return Number.isInteger(code) ? settle(code) : broken();
        } else return broken();
      }
    });
    socket.on("error", broken);
    socket.on("close", broken);
    socket.write(encodeFrame(FRAME.request, JSON.stringify(request)));
  });
}

/** What a shell reports for a command a signal ended. */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 130 : 143;
}
