import { lstatSync, mkdirSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * What a run server must share with a client to run its commands as the client's own
 * process would: the same build of Kozmic, the same Node.js with the same options, and the
 * same user and groups (Docker's socket is reached by group). Anything else (environment,
 * directory, umask) comes with each request.
 */
export interface ServerIdentity {
  buildId: string;
  /**
   * The `kozmic` command the client ran (bin/kozmic.js, links resolved): two checkouts of
   * one build each have their own server, which loads its code lazily from its own dist/.
   */
  command: string;
  execPath: string;
  nodeVersion: string;
  execArgv: readonly string[];
  nodeOptions: string | undefined;
  uid: number;
  gid: number;
  groups: readonly number[];
}

function thisProcessIdentity(buildId: string): ServerIdentity | undefined {
  if (!process.getuid || !process.getgid || !process.getgroups) return undefined;
  let command: string;
  try {
    command = realpathSync(process.argv[1] ?? "");
  } catch {
    return undefined;
  }
  return {
    buildId,
    command,
    execPath: process.execPath,
    nodeVersion: process.version,
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
    uid: process.getuid(),
    gid: process.getgid(),
    groups: process.getgroups(),
  };
}

/**
 * A short name for an identity: one server per identity. Not a secret and not a defence
 * (the directory's mode is): a name, made without node:crypto, whose loading would cost
 * every `kozmic run` about 9 ms.
 */
export function serverKey(identity: ServerIdentity): string {
  const groups = [...identity.groups].sort((a, b) => a - b);
  const text = JSON.stringify({ ...identity, groups });
  return [0x9e3779b9, 0x85ebca6b]
    .map((seed) => hash53(text, seed).toString(16).padStart(14, "0"))
    .join("");
}

/** cyrb53: a 53-bit string hash with good spread, for names. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Where this user's run servers keep their sockets: $XDG_RUNTIME_DIR/kozmic (the login's
 * own runtime directory), else kozmic-<uid> in the temporary directory.
 */
export function socketDirectory(env: NodeJS.ProcessEnv, uid: number): string {
  const runtime = env.XDG_RUNTIME_DIR;
  return runtime && runtime.startsWith("/")
    ? join(runtime, "kozmic")
    : join(tmpdir(), `kozmic-${uid}`);
}

export interface ServerPaths {
  socket: string;
  /** The server's own messages: start, stop, and what went wrong. */
  log: string;
}

function serverPaths(dir: string, key: string): ServerPaths {
  return { socket: join(dir, `${key}.sock`), log: join(dir, `${key}.log`) };
}

/**
 * Makes `dir` if missing and says whether it is this user's alone: a directory (not a link)
 * owned by `uid` that no one else can enter. A socket anyone could reach would run their
 * commands as this user; a directory someone else made could hold their socket.
 */
export function privateDirectory(dir: string, uid: number): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return false;
  }
  try {
    const stat = lstatSync(dir);
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * Where this process's run server listens: its paths, or the socket directory when that is
 * not private to this user (then no server is used); undefined on a system without user ids.
 */
export function locateServer(
  buildId: string,
): { paths: ServerPaths } | { unusableDirectory: string } | undefined {
  const identity = thisProcessIdentity(buildId);
  if (!identity) return undefined;
  const dir = socketDirectory(process.env, identity.uid);
  if (!privateDirectory(dir, identity.uid)) return { unusableDirectory: dir };
  return { paths: serverPaths(dir, serverKey(identity)) };
}
