import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerEngine } from "../../runner/engine/docker-engine.js";
import { localRepositoryId } from "../../src/cli/commands/run.js";
import { encodeFrame, FRAME } from "../../src/cli/run-server/frames.js";
import { ensureBusyboxImage, removeImages } from "../support/images.js";
import { kozmicArgv, runKozmic } from "../support/kozmic-cli.js";
import { eventually, serverLogs, serverSockets } from "../support/run-server.js";

/**
 * The run server as a user meets it: `kozmic run` starts it and hands it later runs, which
 * behave as runs in their own process do (signals included); it exits when idle, when
 * stopped, and is replaced when it died. Each test has its own runtime directory, so its
 * own servers.
 */
const IMAGE = `kozmic-test/run-server-${randomUUID().slice(0, 8)}`;
const dataDir = mkdtempSync(join(tmpdir(), "kozmic-run-server-data-"));
const scratch: string[] = [];
const runtimes: string[] = [];
const engine = new DockerEngine();

before(() => ensureBusyboxImage(IMAGE, { withKozmicUser: true }));
after(async () => {
  for (const runtime of runtimes) {
    await kozmic(["run-server", "stop"], { XDG_RUNTIME_DIR: runtime }).catch(() => {});
  }
  for (const dir of scratch) {
    for (const image of await engine.findImages({ "kozmic.cache.repo": localRepositoryId(dir) })) {
      await engine.removeImage(image.id);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  removeImages(IMAGE);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh XDG_RUNTIME_DIR: no run server yet. */
function runtime(): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-runtime-"));
  runtimes.push(dir);
  scratch.push(dir);
  return dir;
}

/** A repository with one hook whose build is `build`. */
function repository(build = "echo built in $(pwd)", secrets: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-served-"));
  scratch.push(dir);
  cpSync("examples/hello", dir, { recursive: true });
  writeFileSync(
    join(dir, ".github/kozmic.yml"),
    [
      "hooks:",
      "  - name: hello",
      `    image: ${IMAGE}`,
      ...(secrets.length ? [`    secrets: [${secrets.join(", ")}]`] : []),
      "    build: |",
      ...build.split("\n").map((line) => `      ${line}`),
      "",
    ].join("\n"),
  );
  return dir;
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, KOZMIC_DATA_DIR: dataDir, KOZMIC_RUN_SERVER: "on", ...extra };
}

function kozmic(args: string[], extra: Record<string, string>, cwd?: string) {
  return runKozmic(args, { env: env(extra), ...(cwd ? { cwd } : {}) });
}

/** Runs until its server listens: the first run of a runtime directory starts one. */
async function withServer(runtimeDir: string, dir: string): Promise<void> {
  const first = await kozmic(["run", dir], { XDG_RUNTIME_DIR: runtimeDir });
  assert.equal(first.code, 0, first.stderr + first.stdout);
  await eventually(() => serverSockets(runtimeDir).length === 1, "a run server listens");
}

const served = (runtimeDir: string) =>
  serverLogs(runtimeDir).match(/ ran kozmic run in /g)?.length ?? 0;

/** `kozmic run` as a child process, its output as it comes. */
function startRun(args: string[], extra: Record<string, string>) {
  const child = spawn(process.execPath, kozmicArgv(args), { env: env(extra) });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function containersOf(jobId: string) {
  return engine.listContainers({ "kozmic.job": jobId });
}

test("the first kozmic run starts a run server; the next is served, with the same output and exit code as one in its own process", async () => {
  const rt = runtime();
  const dir = repository();
  await withServer(rt, dir);
  const inProcess = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER: "off" });
  const viaServer = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  assert.equal(served(rt), 1, serverLogs(rt));
  const shape = (text: string) =>
    text
      .replace(/[0-9a-f-]{36}/g, "<id>")
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
      .replace(/\d+\.\ds/g, "<s>");
  assert.equal(viaServer.code, 0);
  assert.equal(shape(viaServer.stdout), shape(inProcess.stdout));
  assert.equal(viaServer.stderr, inProcess.stderr);
  assert.match(viaServer.stdout, new RegExp(`built in /kozmic/src\\n`));
  assert.match(viaServer.stdout, /^hello: success$/m);
  assert.match(serverLogs(rt), new RegExp(`ran kozmic run in /.*: exit 0, \\d+ ms`));
});

test("a served run is the client's: its directory, its variables and its exit code", async () => {
  const rt = runtime();
  const dir = repository("echo built; exit 4");
  await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  await eventually(() => serverSockets(rt).length === 1, "a run server listens");

  // A relative directory, from the client's own.
  const relative = await kozmic(["run", "."], { XDG_RUNTIME_DIR: rt }, dir);
  assert.equal(relative.code, 1, "the hook failed: exit 1, as in-process");
  assert.match(relative.stdout, /build exit code 4/);
  assert.match(relative.stdout, /^hello: failure$/m);
  const elsewhere = await kozmic(["run", "nothing-here"], { XDG_RUNTIME_DIR: rt }, tmpdir());
  assert.equal(elsewhere.code, 2);
  assert.match(
    elsewhere.stderr,
    new RegExp(`cannot read ${join(tmpdir(), "nothing-here")}/\\.github/kozmic\\.yml`),
  );

  // The client's variables, not the server's: a bad one is reported, then gone again.
  const bad = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_DEFAULT_MEMORY: "lots" });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^kozmic run: KOZMIC_DEFAULT_MEMORY must be a size .*, got "lots"$/m);
  const noDocker = await kozmic(["run", dir], {
    XDG_RUNTIME_DIR: rt,
    DOCKER_HOST: "unix:///nonexistent/docker.sock",
  });
  assert.equal(noDocker.code, 3);
  assert.match(noDocker.stderr, /connect ENOENT \/nonexistent\/docker\.sock/);
  const secret = repository('echo "token ${#DEPLOY_TOKEN}: $DEPLOY_TOKEN"', ["DEPLOY_TOKEN"]);
  const withSecret = await kozmic(["run", secret, "--secret", "DEPLOY_TOKEN"], {
    XDG_RUNTIME_DIR: rt,
    DEPLOY_TOKEN: "s3cret-value-1",
  });
  assert.equal(withSecret.code, 0, withSecret.stderr);
  assert.match(withSecret.stdout, /token 14: \*\*\*/);
  assert.equal(withSecret.stdout.includes("s3cret-value-1"), false);
  assert.equal(served(rt), 5, serverLogs(rt));
  assert.equal(serverLogs(rt).includes("s3cret-value-1"), false, "the server logs no secret");
});

test("the server keeps none of the starting run's variables but what Node.js and it read", async () => {
  const rt = runtime();
  const dir = repository();
  const first = await kozmic(["run", dir], {
    XDG_RUNTIME_DIR: rt,
    DEPLOY_TOKEN: "s3cret-of-the-first-run",
    DOCKER_HOST: "unix:///var/run/docker.sock",
  });
  assert.equal(first.code, 0, first.stderr);
  await eventually(() => /\(pid \d+\)/.test(serverLogs(rt)), "a run server listens");
  const pid = /\(pid (\d+)\)/.exec(serverLogs(rt))![1];
  const names = readFileSync(`/proc/${pid}/environ`, "utf8")
    .split("\0")
    .filter(Boolean)
    .map((entry) => entry.slice(0, entry.indexOf("=")));
  assert.ok(names.includes("XDG_RUNTIME_DIR") && names.includes("PATH"), names.join(" "));
  for (const name of ["DEPLOY_TOKEN", "DOCKER_HOST", "KOZMIC_DATA_DIR"]) {
    assert.equal(names.includes(name), false, `${name} is not the server's`);
  }
});

test("Ctrl-C on a served run cancels it as in its own process; a killed client's run is cancelled too, its container removed", async () => {
  const rt = runtime();
  const dir = repository("echo started\nsleep 60");
  const quick = repository();
  await withServer(rt, quick);

  for (const mode of ["off", "on"]) {
    const run = startRun(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER: mode });
    await eventually(() => run.out().includes("started\n"), `the build started (${mode})`);
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 1, `${mode}: ${run.err()}`);
    assert.match(run.out(), /^hello: cancelled$/m, mode);
    const jobId = /==> job ([0-9a-f-]{36})/.exec(run.out())![1]!;
    assert.deepEqual(await containersOf(jobId), [], `${mode}: its container is gone`);
  }

  const killed = startRun(["run", dir], { XDG_RUNTIME_DIR: rt });
  await eventually(() => killed.out().includes("started\n"), "the build started");
  const jobId = /==> job ([0-9a-f-]{36})/.exec(killed.out())![1]!;
  killed.child.kill("SIGKILL");
  await killed.exited;
  await eventually(
    () => /exit 1, \d+ ms \(cancelled\)\n(.*\n)?.*\(cancelled\)/.test(serverLogs(rt)),
    "the server cancelled the run",
  );
  assert.deepEqual(await containersOf(jobId), []);
  const after = await kozmic(["run", quick], { XDG_RUNTIME_DIR: rt });
  assert.equal(after.code, 0, "the server serves on");
  assert.equal(served(rt), 3, serverLogs(rt));
});

test("a run that comes while the server is busy runs in its own process", async () => {
  const rt = runtime();
  const dir = repository("sleep 2; echo slept");
  await withServer(rt, repository());
  const [a, b] = await Promise.all([
    kozmic(["run", dir], { XDG_RUNTIME_DIR: rt }),
    kozmic(["run", dir], { XDG_RUNTIME_DIR: rt }),
  ]);
  for (const r of [a, b]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /slept\n/);
  }
  assert.equal(served(rt), 1, serverLogs(rt));
  assert.equal(serverSockets(rt).length, 1, "no second server");
});

test("KOZMIC_RUN_SERVER=off starts no server; a bad value is reported and nothing starts", async () => {
  const rt = runtime();
  const dir = repository();
  const off = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER: "off" });
  assert.equal(off.code, 0);
  const bad = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER: "yes" });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^kozmic run: KOZMIC_RUN_SERVER must be "on" or "off", got "yes"$/m);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.deepEqual(serverSockets(rt), []);
  const server = await kozmic(["run-server"], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER_IDLE: "0" });
  assert.equal(server.code, 2);
  assert.match(server.stderr, /KOZMIC_RUN_SERVER_IDLE must be a duration above 0/);
});

test("the server exits after KOZMIC_RUN_SERVER_IDLE without a run, and kozmic run-server stop stops one", async () => {
  const rt = runtime();
  const dir = repository();
  await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER_IDLE: "1" });
  await eventually(() => /stopping: no run for 1 s/.test(serverLogs(rt)), "the idle exit");
  await eventually(() => serverSockets(rt).length === 0, "its socket removed");

  // An idle time past Node's longest timer (about 24.8 days) does not fire at once.
  await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt, KOZMIC_RUN_SERVER_IDLE: "1000h" });
  await eventually(() => serverSockets(rt).length === 1, "a run server listens");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(serverSockets(rt).length, 1, serverLogs(rt));
  assert.match(serverLogs(rt), /exits after 3600000 s without a run/);
  const stop = await kozmic(["run-server", "stop"], { XDG_RUNTIME_DIR: rt });
  assert.equal(stop.code, 0);
  assert.match(stop.stdout, /kozmic run-server: stopped/);
  await eventually(() => serverSockets(rt).length === 0, "its socket removed");
  const none = await kozmic(["run-server", "stop"], { XDG_RUNTIME_DIR: rt });
  assert.match(none.stdout, /no run server is running for this build/);
});

test("a server that died leaves a socket file: the next run runs in its own process and starts a new server", async () => {
  const rt = runtime();
  const dir = repository();
  await withServer(rt, dir);
  const [socket] = serverSockets(rt);
  const pid = Number(/serving kozmic run on .* \(pid (\d+)\)/.exec(serverLogs(rt))?.[1]);
  assert.ok(pid > 0, `the server's pid, in its log: ${serverLogs(rt)}`);
  process.kill(pid, "SIGKILL");
  await eventually(() => !existsSync(`/proc/${pid}`), "the server is gone");
  assert.deepEqual(serverSockets(rt), [socket], "its socket file is left");
  const again = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stderr, "");
  await eventually(
    () => (serverLogs(rt).match(/serving kozmic run on/g)?.length ?? 0) === 2,
    "a new server",
  );
  const served2 = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  assert.equal(served2.code, 0);
  assert.equal(served(rt), 1, serverLogs(rt));
});

test("Ctrl-C before a server declined the run ends the command: it does not run the hooks itself", async () => {
  const rt = runtime();
  const dir = repository();
  await withServer(rt, dir);
  const [path] = serverSockets(rt);
  assert.equal((await kozmic(["run-server", "stop"], { XDG_RUNTIME_DIR: rt })).code, 0);
  await eventually(() => serverSockets(rt).length === 0, "the server is gone");
  // A stand-in at the server's socket: it declines the run once it was asked to cancel it.
  const frames: number[] = [];
  const fake = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      frames.push(chunk[0]!);
      if (chunk[0] === FRAME.cancel) socket.end(encodeFrame(FRAME.declined));
    });
  });
  await new Promise<void>((resolve) => fake.listen(path, resolve));
  try {
    const run = startRun(["run", dir], { XDG_RUNTIME_DIR: rt });
    await eventually(() => frames.includes(FRAME.request), "the request reached the socket");
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 130, run.err());
    assert.deepEqual(frames, [FRAME.request, FRAME.cancel]);
    assert.doesNotMatch(run.out(), /==> job/, "nothing ran");
  } finally {
    await new Promise((resolve) => fake.close(resolve));
  }
});

test("a client that sends the server garbage is disconnected, and the server serves on", async () => {
  const rt = runtime();
  const dir = repository();
  await withServer(rt, dir);
  const [socket] = serverSockets(rt);
  const send = (bytes: Buffer) =>
    new Promise<void>((resolve) => {
      const s = connect(socket!);
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      s.on("connect", () => s.write(bytes));
    });
  await send(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  await send(encodeFrame(FRAME.request, "{not json"));
  await send(encodeFrame(FRAME.request, JSON.stringify({ argv: [dir], cwd: "relative" })));
  const log = serverLogs(rt);
  assert.match(log, /a client sent a broken frame \(unknown frame type 0x47\); disconnected it/);
  assert.match(log, /a client sent a bad request \(the request is not JSON\)/);
  assert.match(log, /a client sent a bad request \(the request lacks argv, an absolute cwd/);
  const after = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  assert.equal(after.code, 0);
  assert.equal(served(rt), 1, serverLogs(rt));
});

test("a socket directory someone else could enter is not used: runs stay in their own process", async () => {
  const rt = runtime();
  const dir = repository();
  mkdirSync(join(rt, "kozmic"), { mode: 0o755 });
  chmodSync(join(rt, "kozmic"), 0o755);
  const run = await kozmic(["run", dir], { XDG_RUNTIME_DIR: rt });
  assert.equal(run.code, 0);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.deepEqual(serverSockets(rt), []);
  const server = await kozmic(["run-server"], { XDG_RUNTIME_DIR: rt });
  assert.equal(server.code, 2);
  assert.match(
    server.stderr,
    /kozmic must be a directory of this user's that no one else can enter \(mode 0700\)/,
  );
  assert.equal(readFileSync(join(dir, ".github/kozmic.yml"), "utf8").includes(IMAGE), true);
});
