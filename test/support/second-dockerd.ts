import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import type { Socket } from "node:net";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SecondDockerd {
  /** For DOCKER_HOST or `docker -H`: `unix:///tmp/kzd-…/docker.sock`. */
  dockerHost: string;
  socketPath: string;
  /** The data root in use, /var/lib/kozmic-test-dockerd-<name>[-<n>]. */
  dataRoot: string;
  /**
   * Ends this dockerd with `signal` (SIGTERM as `systemctl restart docker` does; SIGKILL as a
   * crash) and starts it again on the same socket, data root and exec root, once `whileDown`
   * (if given) has resolved.
   */
  restart(signal: NodeJS.Signals, whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

const SLOTS = 4;

/**
 * Starts another dockerd beside the main one, with its own socket, exec root and pid file, no
 * bridge and no iptables rules. Its data root, /var/lib/kozmic-test-dockerd-<name>, is kept
 * between runs so images loaded into it stay; a process that finds that one in use (locked)
 * takes /var/lib/kozmic-test-dockerd-<name>-2 and so on. `usernsRemap` adds
 * `--userns-remap=default` (dockerd creates the `dockremap` user and its subordinate ids).
 */
export async function startSecondDockerd(
  options: { usernsRemap?: boolean; name?: string } = {},
): Promise<SecondDockerd> {
  const base = `/var/lib/kozmic-test-dockerd-${options.name ?? (options.usernsRemap ? "userns" : "plain")}`;
  // Two engines starting at once could both try to create the dockremap user.
  const starting = await holdLock("/tmp/kozmic-test-dockerd-start.lock", true);
  try {
    const { dataRoot, release } = await takeDataRoot(base);
    try {
      const engine = await launchWithRetries(dataRoot, options.usernsRemap ?? false);
      return { ...engine, stop: () => engine.stop().finally(release) };
    } catch (error) {
      await release();
      throw error;
    }
  } finally {
    await starting();
  }
}

async function launchWithRetries(dataRoot: string, usernsRemap: boolean) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(dataRoot, usernsRemap);
    } catch (error) {
      // dockerd gives the containerd it starts 10 s to boot: too little on a busy machine.
      if (attempt === 3 || !String(error).includes("timeout waiting for containerd")) throw error;
    }
  }
}

async function launch(dataRoot: string, usernsRemap: boolean) {
  // Short on purpose: unix socket paths, including containerd's under the exec root, are
  // limited to 108 bytes.
  const dir = mkdtempSync("/tmp/kzd-");
  const socketPath = join(dir, "docker.sock");
  const dockerHost = `unix://${socketPath}`;
  // An empty config, so settings in /etc/docker/daemon.json (e.g. "hosts") don't apply.
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const args = [
    `--host=${dockerHost}`,
    `--data-root=${dataRoot}`,
    `--exec-root=${join(dir, "x")}`,
    `--pidfile=${join(dir, "docker.pid")}`,
    `--config-file=${join(dir, "daemon.json")}`,
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    ...(usernsRemap ? ["--userns-remap=default"] : []),
  ];
  const logPath = join(dir, "dockerd.log");
  const spawnDockerd = () => {
    const log = openSync(logPath, "a");
    const started = spawn("dockerd", args, { stdio: ["ignore", log, log] });
    closeSync(log);
    // A test process that ends without calling stop() neither hangs nor leaves the engine behind.
    started.unref();
    return started;
  };
  let child = spawnDockerd();
  const onExit = () => child.kill("SIGTERM");
  process.once("exit", onExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= stopDockerd(child).finally(() => {
      process.removeListener("exit", onExit);
      removeTree(dir);
    }));
  const restart = async (signal: NodeJS.Signals, whileDown?: () => Promise<void>) => {
    const exit = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exit;
    try {
      await whileDown?.();
    } finally {
      child = spawnDockerd();
      await waitForEngine(dockerHost, child, logPath);
    }
  };
  try {
    await waitForEngine(dockerHost, child, logPath);
  } catch (error) {
    await stop();
    throw error;
  }
  return { dockerHost, socketPath, dataRoot, stop, restart };
}

async function takeDataRoot(base: string): Promise<{ dataRoot: string; release: Release }> {
  for (let slot = 1; slot <= SLOTS; slot++) {
    const dataRoot = slot === 1 ? base : `${base}-${slot}`;
    const release = await holdLock(`${dataRoot}.lock`, false);
    if (!release) continue;
    mkdirSync(dataRoot, { recursive: true });
    return { dataRoot, release };
  }
  throw new Error(`all ${SLOTS} data roots ${base}[-n] are in use`);
}

/**
 * Holds a flock on `path` in a child process (Node has no flock). Without `wait`, gives
 * undefined when another process holds it.
 */
type Release = () => Promise<void>;

function holdLock(path: string, wait: true): Promise<Release>;
function holdLock(path: string, wait: false): Promise<Release | undefined>;
function holdLock(path: string, wait: boolean): Promise<Release | undefined> {
  const flags = wait ? [] : ["-n"];
  const holder = spawn("flock", [...flags, path, "-c", "echo locked; exec cat >/dev/null"], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    holder.once("error", reject);
    holder.stdout.once("data", () => {
      // Held until released, or until this process ends and the holder's stdin closes.
      holder.unref();
      (holder.stdin as Socket).unref();
      (holder.stdout as Socket).unref();
      // Waits for the holder to exit, so this process reaps it.
      const exited = new Promise<void>((done) => holder.once("exit", () => done()));
      resolve(() => {
        holder.ref();
        holder.stdin.end();
        return exited;
      });
    });
    holder.once("exit", (code) =>
      wait ? reject(new Error(`flock ${path} exited with ${code}`)) : resolve(undefined),
    );
  });
}

async function waitForEngine(dockerHost: string, child: ChildProcess, logPath: string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}):\n${tail(logPath)}`);
    try {
      await run("docker", ["-H", dockerHost, "info", "--format", "{{.ID}}"], { timeout: 5_000 });
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`dockerd at ${dockerHost} did not answer within 60 s:\n${tail(logPath)}`);
}

async function stopDockerd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exit;
  clearTimeout(timer);
}

/** Removes `dir` and the `<dir>.<uid>.<gid>` twin a userns-remapped dockerd makes beside it. */
function removeTree(dir: string): void {
  for (const name of readdirSync(dirname(dir)))
    if (name === basename(dir) || name.startsWith(`${basename(dir)}.`))
      rmSync(join(dirname(dir), name), { recursive: true, force: true });
}

function tail(path: string, lines = 30): string {
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
