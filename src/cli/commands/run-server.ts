import { writeSync } from "node:fs";
import { BUILD_ID } from "../build-id.js";
import { locateServer, type ServerPaths } from "../run-server/address.js";
import { connectSocket } from "../run-server/connect-socket.js";
import { encodeFrame, FRAME } from "../run-server/frames.js";
import { KeptCacheRecords } from "../run-server/kept-cache-records.js";
import { KeptDockerEngines } from "../run-server/kept-docker-engines.js";
import { startRunServer } from "../run-server/server.js";
import { startFailure } from "../start-failure.js";

const USAGE =
  "usage: kozmic run-server [stop]\n" +
  "  Keeps `kozmic run`'s code loaded, so that later runs start sooner. `kozmic run` starts\n" +
  "  it by itself (unless KOZMIC_RUN_SERVER=off), and it exits after KOZMIC_RUN_SERVER_IDLE\n" +
  "  (10m) without a run.\n" +
  "  stop  stop this user's run server for this build of Kozmic (a run under way is cancelled)";

/** A line in the server's own log (its standard output), never in a client's output. */
function log(line: string): void {
  writeSync(1, `${new Date().toISOString()} ${line}\n`);
}

export async function main(args: string[]): Promise<number> {
  if (args[0] === "--help" || args[0] === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 1 || (args.length === 1 && args[0] !== "stop")) {
    console.error(`kozmic run-server: unexpected ${args.join(" ")}\n${USAGE}`);
    return 2;
  }
  const where = BUILD_ID ? locateServer(BUILD_ID) : undefined;
  if (!where) {
    console.error(
      "kozmic run-server: only the built CLI has a run server (npm run build, then bin/kozmic.js)",
    );
    return 2;
  }
  if (!("paths" in where)) {
    console.error(
      `kozmic run-server: ${where.unusableDirectory} must be a directory of this user's that ` +
        "no one else can enter (mode 0700); remove it or set XDG_RUNTIME_DIR to one",
    );
    return 2;
  }
  const { paths } = where;
  return args[0] === "stop" ? stop(paths) : serve(paths);
}

async function stop(paths: ServerPaths): Promise<number> {
  const socket = await connectSocket(paths.socket);
  if (socket === "absent") {
    console.log("kozmic run-server: no run server is running for this build");
    return 0;
  }
  if (!socket) {
    console.error(`kozmic run-server: cannot reach the run server at ${paths.socket}`);
    return 3;
  }
  await new Promise<void>((resolve) => {
    socket.on("error", () => {});
    socket.on("close", () => resolve());
    socket.resume();
    socket.write(encodeFrame(FRAME.stop));
  });
  console.log("kozmic run-server: stopped");
  return 0;
}

async function serve(paths: ServerPaths): Promise<number> {
  let idleSeconds: number;
  try {
    const { readRunServerSettings } = await import("../../settings/pipeline-entry-points.js");
    const settings = readRunServerSettings(process.env);
    if (!settings.enabled) {
      console.error("kozmic run-server: KOZMIC_RUN_SERVER is off");
      return 2;
    }
    idleSeconds = settings.idleSeconds;
  } catch (error) {
    return startFailure("kozmic run-server", error);
  }
  // Everything a run loads, loaded now: what the server is for.
  const [run] = await Promise.all([
    import("./run.js"),
    import("../../core/config/parse-config.js"),
  ]);
  await run.loadRunModules();
  const cacheRecords = new KeptCacheRecords();
  const engines = new KeptDockerEngines();
  const server = await startRunServer({
    paths,
    idleSeconds,
    run: (argv, cancel) =>
      run.main(argv, {
        cancel,
        openCacheRecords: (dir) => cacheRecords.open(dir),
        dockerEngine: () => engines.forThisEnvironment(),
      }),
    log,
  });
  if (!server) {
    log(`another run server answers on ${paths.socket}; this one exits`);
    return 0;
  }
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => server.stop(`got ${signal}`));
  }
  await server.stopped;
  await cacheRecords.closeAll();
  log("stopped");
  // Whatever a run left open (an idle connection to Docker) must not keep the server alive.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
