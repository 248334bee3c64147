import {
  resolveScriptUser,
  scriptUserWithoutPasswd,
  type ScriptUser,
} from "./resolve-script-user.js";
import { knownImageUsers, rememberImageUsers } from "./image-users.js";
import { rm } from "node:fs/promises";
import { WorkspaceNotBindableError, type ContainerSpec, type Engine } from "../engine/port.js";
import type { LogSink } from "../logs/log-sink.js";
import type { ExtraFile } from "../source/tar-directory.js";
import {
  replaceWorkspaceContents,
  fillWorkspace,
  makeWorkspace,
  writeWorkspaceAt,
} from "../source/write-workspace.js";
import { AnnouncementScanner } from "./announcement-scanner.js";
import { workspacesCanExec } from "../source/step-workspaces.js";
import { CONTINUE_LINE, IMAGE_PASSWD, stepHelper } from "./step-helper.js";
import { readOwnFile } from "../files/read-own-file.js";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { timed, type StepTimings } from "./step-timings.js";

export interface StepSpec {
  jobId: string;
  image: string;
  script: string;
  sourceDir: string;
  env: Record<string, string>;
  /**
   * Secrets by name: files under SECRETS_DIR (mode 0400, the script user's) that the helper
   * exports to the script's environment. Never in `env`, which is the container's.
   */
  secrets?: Record<string, string>;
  /** The hook's `user:`; undefined: the image's kozmic user, else its USER. */
  user?: string;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  network: string;
  noNewPrivileges?: boolean;
  runtime?: string;
  /** Where what was read from an image is kept for later processes. */
  dataDir?: string;
  /**
   * Where the step's `/kozmic` is written as a directory and bind-mounted, when the engine
   * can (Engine.bindsWorkspaces); otherwise, or when absent, it is uploaded as an archive.
   */
  workspaceRoot?: string;
  /** Epoch ms after which the whole job is out of time. */
  deadline: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
  /**
   * A second script, run in the same container once `script` exits 0 and `between` has
   * resolved (an install's commit: the container is then paused, its first script's
   * processes gone). It starts from a fresh copy of the source, as a new container would.
   * The step's timers stop during `between` (the job's deadline still holds).
   */
  next?: {
    script: string;
    /** Resolves with the image the second script runs in; `passwd` reads its /etc/passwd. */
    between: (containerId: string, passwd: () => Promise<string | undefined>) => Promise<string>;
  };
  timings?: StepTimings;
  /**
   * Given the removal of the container and volume instead of it being awaited here. It
   * always starts in `finally`; the caller awaits it (a runner, before freeing the slot).
   */
  deferCleanup?: (removal: Promise<void>) => void;
}

export type StepOutcome =
  /** With `next`: the first script's exit code when it failed, else the second's. */
  | { kind: "exited"; exitCode: number }
  | { kind: "timed_out"; reason: string }
  | { kind: "cancelled" };

const ids = (user: ScriptUser) => ({ uid: user.uid, gid: user.gid });

const sameUser = (a: ScriptUser, b: ScriptUser) =>
  a.user === b.user && a.uid === b.uid && a.gid === b.gid;

/** The secrets directory and one file per secret, readable by the script user alone. */
function secretFiles(secrets: Record<string, string> | undefined): ExtraFile[] {
  const entries = Object.entries(secrets ?? {});
  if (entries.length === 0) return [];
  return [
    { path: "secrets", content: "", mode: 0o500, type: "directory" },
    ...entries.map(([name, value]) => ({ path: `secrets/${name}`, content: value, mode: 0o400 })),
  ];
}

/**
 * Reads /etc/passwd from a created, never started container of the image, once per image
 * ID (see image-users.ts).
 */
async function lookupScriptUser(
  engine: Engine,
  spec: StepSpec,
  labels: Record<string, string>,
): Promise<ScriptUser> {
  const fixed = scriptUserWithoutPasswd(spec.user);
  if (fixed) return fixed;
  const known = await knownImageUsers(spec.dataDir, spec.image);
  if (known) return resolveScriptUser(known.passwd, known.imageUser, spec.user);
  const imageUser = (await engine.inspectImage(spec.image))?.user;
  const probe = await engine.createContainer({
    image: spec.image,
    cmd: ["/bin/sh"],
    env: {},
    workingDir: "/",
    labels,
    memoryBytes: spec.memoryBytes,
    nanoCpus: spec.nanoCpus,
    pidsLimit: spec.pidsLimit,
    network: "none",
    volumes: [],
    ...(spec.runtime ? { runtime: spec.runtime } : {}),
  });
  try {
    const passwd = await engine.readFile(probe, "/etc/passwd");
    await rememberImageUsers(spec.dataDir, spec.image, { passwd, imageUser });
    return resolveScriptUser(passwd, imageUser, spec.user);
  } finally {
    await engine.removeContainer(probe);
  }
}

/**
 * Runs one script in a fresh container with a fresh `/kozmic` (a bind-mounted directory or
 * a volume) holding the helper, the script and the source; with `next`, the second script
 * too: in the same container when /kozmic is a directory, else in a new container of the
 * image `between` made. Containers, volumes and directories are removed whatever happens.
 */
export async function runStep(engine: Engine, spec: StepSpec, log: LogSink): Promise<StepOutcome> {
  const outcome = await runContainer(engine, spec, log);
  if (outcome.kind !== "next") return outcome;
  const { next: _, ...rest } = spec;
  const second = await runContainer(
    engine,
    { ...rest, image: outcome.image, script: spec.next!.script },
    log,
  );
  if (second.kind === "next") throw new Error("unreachable: a step without next continued");
  return second;
}

async function runContainer(
  engine: Engine,
  spec: StepSpec,
  log: LogSink,
): Promise<StepOutcome | { kind: "next"; image: string }> {
  const labels = { "kozmic.managed": "true", "kozmic.job": spec.jobId };
  let volume: string | undefined;
  let workspace: string | undefined;
  let container: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stop: StepOutcome | undefined;
  /** The step's files being written, and the second script's: removed only once written. */
  let filling: Promise<void> | undefined;
  let staging: Promise<void> | undefined;
  let exited = false;
  const onAbort = () => {
    stop ??= { kind: "cancelled" };
    if (container) void engine.killContainer(container).catch(() => {});
  };
  try {
    if (spec.signal?.aborted) return { kind: "cancelled" };
    const t = spec.timings;
    const secretNames = Object.keys(spec.secrets ?? {});
    const token = `kozmic-step-${randomBytes(16).toString("hex")}`;
    // Continuing in this container needs the workspace: see replaceWorkspaceContents.
    const filesFor = (continueHere: boolean): ExtraFile[] => [
      {
        path: "run.sh",
        content: stepHelper(
          spec.script,
          secretNames,
          continueHere && spec.next ? { script: spec.next.script, token } : undefined,
        ),
        mode: 0o755,
      },
      { path: "script.sh", content: spec.script, mode: 0o644 },
      ...secretFiles(spec.secrets),
    ];
    const create = (
      user: ScriptUser,
      mount: Pick<ContainerSpec, "volumes" | "workspace" | "stdin">,
    ) =>
      timed(t, "container create", () =>
        engine.createContainer({
          image: spec.image,
          cmd: ["/bin/sh", "/kozmic/run.sh"],
          env: spec.env,
          ...(user.user ? { user: user.user } : {}),
          workingDir: "/kozmic/src",
          labels,
          memoryBytes: spec.memoryBytes,
          nanoCpus: spec.nanoCpus,
          pidsLimit: spec.pidsLimit,
          network: spec.network,
          ...mount,
          ...(spec.noNewPrivileges ? { noNewPrivileges: true } : {}),
          ...(spec.runtime ? { runtime: spec.runtime } : {}),
        }),
      );
    const root = spec.workspaceRoot;
    // Kozmic's own files are not the job's source, even when they live inside it (the
    // default data directory is ./.kozmic); a copy into itself would never end.
    const exclude = [spec.dataDir, root].filter((path): path is string => !!path);
    let continueHere = false;
    // Asked together: the engine answers once (Docker's /info), the user is needed either way.
    const [user, bindable] = await Promise.all([
      timed(t, "script user", () => lookupScriptUser(engine, spec, labels)),
      root !== undefined && engine.bindsWorkspaces
        ? Promise.all([engine.bindsWorkspaces(), workspacesCanExec(root)]).then(
            ([engineCan, mountCan]) => engineCan && mountCan,
          )
        : false,
    ]);
    if (root !== undefined && bindable) {
      // The fast way: the files written where the container sees them, no archive upload;
      // written while the container is created (Docker needs the directory, not its files).
      const made = await makeWorkspace(root, ids(user));
      workspace = made;
      const written = timed(t, "source copy", () =>
        fillWorkspace(made, {
          sourceDir: spec.sourceDir,
          ...ids(user),
          extra: filesFor(true),
          exclude,
        }),
      );
      filling = written;
      written.catch(() => {}); // awaited below, and before the directory is removed
      try {
        container = await create(user, { volumes: [], workspace: made, stdin: !!spec.next });
        continueHere = !!spec.next;
      } catch (error) {
        if (!(error instanceof WorkspaceNotBindableError)) throw error;
        await written.catch(() => {});
        await rm(made, { recursive: true, force: true });
        workspace = undefined;
      }
      if (workspace) await written;
    }
    if (!container) {
      const made = await timed(t, "volume create", () => engine.createVolume(labels));
      volume = made;
      container = await create(user, { volumes: [{ source: made, target: "/kozmic" }] });
      // Loaded on this way only: a bound step never packs an archive.
      const { tarDirectory } = await import("../source/tar-directory.js");
      const tar = await tarDirectory(spec.sourceDir, {
        prefix: "kozmic",
        ...ids(user),
        extra: filesFor(false),
        exclude,
      });
      const target = container;
      await timed(t, "source upload", () =>
        engine.putArchive(target, "/", tar as unknown as NodeJS.ReadableStream),
      );
    }

    const id = container;
    const kill = (outcome: StepOutcome) => {
      stop ??= outcome;
      void engine.killContainer(id).catch(() => {});
    };
    let pausedTimers = false;
    const armDeadline = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => kill({ kind: "timed_out", reason: "job timeout reached" }),
        Math.max(0, spec.deadline - Date.now()),
      );
    };
    const armStall = () => {
      if (pausedTimers) return;
      if (spec.deadline - Date.now() <= spec.stallTimeoutMs) return armDeadline();
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          kill({
            kind: "timed_out",
            reason: `stall timeout: no output for ${spec.stallTimeoutMs / 1000}s`,
          }),
        spec.stallTimeoutMs,
      );
    };
    const onText = (text: string) => {
      log.write(text);
      armStall();
    };
    let output: (text: string) => void = onText;
    let scanner: AnnouncementScanner | undefined;
    let stdin: PassThrough | undefined;
    let firstExit: number | undefined;
    let continuing: Promise<void> | undefined;
    let handOff: string | undefined;
    if (continueHere && spec.next && workspace) {
      const { between } = spec.next;
      const mounted = workspace;
      const input = new PassThrough();
      stdin = input;
      // The second script's files, written while the first runs, outside every mount.
      const staged = timed(t, "source copy", () =>
        writeWorkspaceAt(`${mounted}.next`, {
          sourceDir: spec.sourceDir,
          ...ids(user),
          exclude,
          extra: [
            { path: "next.sh", content: spec.next!.script, mode: 0o644 },
            ...secretFiles(spec.secrets),
          ],
        }),
      );
      staged.catch(() => {});
      staging = staged;
      scanner = new AnnouncementScanner(token, onText, (code) => {
        firstExit = code;
        if (code !== 0) return void input.end();
        pausedTimers = true;
        armDeadline(); // the commit may take long; the job's deadline still holds
        continuing = (async () => {
          const image = await between(id, () =>
            readOwnFile(join(mounted, IMAGE_PASSWD), 1024 ** 2),
          );
          // A new container of the image would run the script as the user its /etc/passwd
          // gives now (an install may have added the kozmic user): if that is not this
          // container's user, the second script gets that new container.
          const nextUser = await lookupScriptUser(engine, { ...spec, image }, labels);
          if (!sameUser(nextUser, user)) {
            handOff = image;
            input.end(); // the helper exits at the end of its stdin
            return;
          }
          await staged;
          await replaceWorkspaceContents(mounted, `${mounted}.next`, `${mounted}.done`);
          pausedTimers = false;
          armStall();
          input.end(CONTINUE_LINE);
        })();
        continuing.catch(() => {
          input.end();
          kill({ kind: "exited", exitCode: 125 });
        });
      });
      const s = scanner;
      output = (text) => s.write(text);
    }
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    if (spec.signal?.aborted) return { kind: "cancelled" };
    armStall();
    const exitCode = await timed(t, "container run", () => engine.run(id, output, stdin));
    exited = true;
    scanner?.end();
    stdin?.end();
    clearTimeout(timer);
    // A failed `between` (the commit) is the step's error, whatever the container did.
    if (continuing) await continuing;
    if (stop) return stop;
    if (!spec.next) return { kind: "exited", exitCode };
    if (handOff) return { kind: "next", image: handOff };
    if (continueHere)
      return { kind: "exited", exitCode: firstExit === 0 ? exitCode : (firstExit ?? exitCode) };
    // An uploaded /kozmic cannot be emptied safely in place: the next script gets a new
    // container of the committed image.
    if (exitCode !== 0) return { kind: "exited", exitCode };
    return {
      kind: "next",
      image: await spec.next.between(id, () => engine.readFile(id, "/etc/passwd")),
    };
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onAbort);
    const t = spec.timings;
    const [madeContainer, madeVolume, madeWorkspace] = [container, volume, workspace];
    const containerGone = (async () => {
      if (madeContainer) {
        await timed(t, "container remove", () => engine.removeContainer(madeContainer));
      }
      if (madeVolume) await timed(t, "volume remove", () => engine.removeVolume(madeVolume));
    })();
    const workspaceGone = (async () => {
      if (!madeWorkspace) return;
      // A container that exited writes nothing more: its directory goes beside it. Else
      // (an error while it may run) once it is gone.
      if (!exited) await containerGone.catch(() => {});
      await filling?.catch(() => {});
      await staging?.catch(() => {});
      await timed(t, "workspace remove", () =>
        Promise.all(
          ["", ".next", ".done"].map((suffix) =>
            rm(`${madeWorkspace}${suffix}`, { recursive: true, force: true, maxRetries: 3 }),
          ),
        ),
      );
    })();
    const removal = Promise.all([containerGone, workspaceGone]).then(() => {});
    if (spec.deferCleanup) {
      removal.catch(() => {}); // the caller sees the failure when it awaits; none unhandled
      spec.deferCleanup(removal);
    } else await removal;
  }
}
