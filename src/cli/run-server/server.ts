import { createServer, type Server, type Socket } from "node:net";
import { unlinkSync } from "node:fs";
import type { ServerPaths } from "./address.js";
import { connectSocket } from "./connect-socket.js";
import {
  encodeFrame,
  encodeOutput,
  FRAME,
  FrameError,
  FrameReader,
  parseRunRequest,
  type Frame,
  type FrameType,
} from "./frames.js";
import { enterRequest } from "./request-scope.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** `kozmic run` as the server calls it: the exit code; `cancel` stands for the client's signals. */
export type RunCommand = (args: string[], cancel: AbortSignal) => Promise<number>;

export interface RunServerOptions {
  paths: ServerPaths;
  /** Exit after this long without a run. */
  idleSeconds: number;
  run: RunCommand;
  /** The server's own messages (its log). */
  log: (line: string) => void;
}

export interface RunningServer {
  /** Settles when the server has stopped: idle, asked to, or given `stop()`. */
  stopped: Promise<void>;
  /** Stops taking runs; the run under way, if any, is cancelled and ends first. */
  stop(reason: string): void;
}

/**
 * Serves `kozmic run` on a Unix socket, one run at a time: a client that comes while a run
 * is under way is declined and runs its own. undefined when another server already answers
 * on the socket.
 */
export async function startRunServer(
  options: RunServerOptions,
): Promise<RunningServer | undefined> {
  const { paths, log } = options;
  let current: { cancel: AbortController } | undefined;
  let stopping = false;
  let idle: NodeJS.Timeout | undefined;
  let stoppedResolve!: () => void;
  const stopped = new Promise<void>((resolve) => (stoppedResolve = resolve));

  const server = createServer((socket) => serveConnection(socket));
  if (!(await listenOn(server, paths.socket))) return undefined;
  log(
    `serving kozmic run on ${paths.socket} (pid ${process.pid}); exits after ` +
      `${options.idleSeconds} s without a run`,
  );

  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => stop(`no run for ${options.idleSeconds} s`),
      // A longer timer would overflow and fire at once (Node's limit, about 24.8 days).
      Math.min(options.idleSeconds * 1000, MAX_TIMER_MS),
    );
  };
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(idle);
    log(`stopping: ${reason}`);
    server.close();
    if (current) current.cancel.abort();
    else stoppedResolve();
  };
  armIdle();

  function serveConnection(socket: Socket) {
    const reader = new FrameReader();
    let mine: { cancel: AbortController } | undefined;
    socket.on("error", () => {});
    socket.on("close", () => mine?.cancel.abort());
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (error) {
        log(`a client sent a broken frame (${(error as Error).message}); disconnected it`);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.type === FRAME.request && !mine) {
          mine = { cancel: new AbortController() };
          void runRequest(socket, frame.payload, mine);
        } else if (frame.type === FRAME.cancel && mine) {
          mine.cancel.abort();
        } else if (frame.type === FRAME.stop && !mine) {
          socket.end(encodeFrame(FRAME.exit, "0"));
          stop("asked to (kozmic run-server stop)");
        } else {
          log(`a client sent an unexpected frame (0x${frame.type.toString(16)}); disconnected it`);
          socket.destroy();
          return;
        }
      }
    });
  }

  async function runRequest(socket: Socket, payload: Buffer, mine: { cancel: AbortController }) {
    let request;
    try {
      request = parseRunRequest(payload);
    } catch (error) {
      log(`a client sent a bad request (${(error as FrameError).message}); disconnected it`);
      socket.destroy();
      return;
    }
    if (current || stopping) {
      socket.end(encodeFrame(FRAME.declined));
      return;
    }
    const send = (type: FrameType) => (bytes: Buffer, done: () => void) => {
      if (!socket.writable) return void queueMicrotask(done);
      const frames = encodeOutput(type, bytes);
      frames.forEach((frame, i) =>
        i < frames.length - 1 ? socket.write(frame) : socket.write(frame, () => done()),
      );
    };
    let restore: () => void;
    try {
      restore = enterRequest(request, { stdout: send(FRAME.stdout), stderr: send(FRAME.stderr) });
    } catch (error) {
      // Its directory is gone, say: the client runs it and says so as it always would.
      log(`declined a run: ${(error as Error).message}`);
      socket.end(encodeFrame(FRAME.declined));
      return;
    }
    current = mine;
    clearTimeout(idle);
    socket.write(encodeFrame(FRAME.accepted));
    const started = performance.now();
    let code: number;
    try {
      code = await options.run(request.argv, mine.cancel.signal);
    } catch (error) {
      // What Node prints for a command that throws, and its exit code.
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      code = 1;
    } finally {
      restore();
    }
    current = undefined;
    // Logged before the client hears the end: a script reading the log then finds it there.
    log(
      `ran kozmic run in ${request.cwd}: exit ${code}, ${Math.round(performance.now() - started)} ms` +
        (mine.cancel.signal.aborted ? " (cancelled)" : ""),
    );
    if (socket.writable) socket.end(encodeFrame(FRAME.exit, String(code)));
    if (stopping) stoppedResolve();
    else armIdle();
  }

  return { stopped, stop };
}

/**
 * Listens on the socket path. A socket file left by a server that died is replaced; when
 * another server answers there, false (two runs started one each at the same time).
 */
async function listenOn(server: Server, path: string): Promise<boolean> {
  try {
    await listen(server, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
  }
  const other = await connectSocket(path);
  if (other && other !== "absent") {
    other.destroy();
    return false;
  }
  unlinkSync(path);
  await listen(server, path);
  return true;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
