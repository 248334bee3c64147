import {
  resolveScriptUser,
  scriptUserWithoutPasswd,
  type ScriptUser,
} from "./resolve-script-user.js";
import { knownImageUsers, rememberImageUsers } from "./image-users.js";
import { scriptCommand } from "../../src/core/config/script-command.js";
import { rm } from "node:fs/promises";
import { WorkspaceNotBindableError, type ContainerSpec, type Engine } from "../engine/port.js";
import type { LogSink } from "../logs/log-sink.js";
import { tarDirectory, type ExtraFile } from "../source/tar-directory.js";
import { writeWorkspace } from "../source/write-workspace.js";
import { timed, type StepTimings } from "./step-timings.js";

/** Where a step's secrets are, one file each, on the `/kozmic` volume (never committed). */
export const SECRETS_DIR = "/kozmic/secrets";

function helperFor(script: string, secretNames: readonly string[]): string {
  const quoted = scriptCommand(script)
    .interpreter.map((word) => `'${word.replace(/'/g, "'\\''")}'`)
    .join(" ");
  // Secrets become environment variables of the script's process here, never of the
  // container's configuration (which a commit keeps). `printf x` keeps trailing newlines.
  const exports = secretNames.map(
    (name) =>
      `KOZMIC_VALUE=$(cat ${SECRETS_DIR}/${name}; printf x) || exit 125\n` +
      `export ${name}="\${KOZMIC_VALUE%x}"\n`,
  );
  const unset = secretNames.length > 0 ? "unset KOZMIC_VALUE\n" : "";
  // stderr joins stdout in the container so their lines keep their order.
  return `#!/bin/sh\ncd /kozmic/src || exit 125\n${exports.join("")}${unset}exec ${quoted} /kozmic/script.sh 2>&1\n`;
}

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
  /** Runs before the container is removed, e.g. to commit it. */
  afterExit?: (containerId: string, exitCode: number) => Promise<void>;
  timings?: StepTimings;
  /**
   * Given the removal of the container and volume instead of it being awaited here. It
   * always starts in `finally`; the caller awaits it (a runner, before freeing the slot).
   */
  deferCleanup?: (removal: Promise<void>) => void;
}

export type StepOutcome =
  | { kind: "exited"; exitCode: number }
  | { kind: "timed_out"; reason: string }
  | { kind: "cancelled" };

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
  volumes: ContainerSpec["volumes"],
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
    volumes,
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
 * Runs one script in a fresh container with a fresh `/kozmic` volume holding the helper,
 * the script and the source. Both are removed in `finally`, whatever happens.
 */
export async function runStep(engine: Engine, spec: StepSpec, log: LogSink): Promise<StepOutcome> {
  const labels = { "kozmic.managed": "true", "kozmic.job": spec.jobId };
  let volume: string | undefined;
  let workspace: string | undefined;
  let container: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stop: StepOutcome | undefined;
  const onAbort = () => {
    stop ??= { kind: "cancelled" };
    if (container) void engine.killContainer(container).catch(() => {});
  };
  try {
    if (spec.signal?.aborted) return { kind: "cancelled" };
    const t = spec.timings;
    const files: ExtraFile[] = [
      {
        path: "run.sh",
        content: helperFor(spec.script, Object.keys(spec.secrets ?? {})),
        mode: 0o755,
      },
      { path: "script.sh", content: spec.script, mode: 0o644 },
      ...secretFiles(spec.secrets),
    ];
    const create = (user: ScriptUser, mount: Pick<ContainerSpec, "volumes" | "workspace">) =>
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
    let scriptUser: ScriptUser | undefined;
    if (root !== undefined && (await engine.bindsWorkspaces?.())) {
      // The fast way: the files written where the container sees them, no archive upload.
      const user = await timed(t, "script user", () => lookupScriptUser(engine, spec, labels, []));
      scriptUser = user;
      workspace = await timed(t, "source copy", () =>
        writeWorkspace(root, {
          sourceDir: spec.sourceDir,
          uid: user.uid,
          gid: user.gid,
          extra: files,
        }),
      );
      try {
        container = await create(user, { volumes: [], workspace });
      } catch (error) {
        if (!(error instanceof WorkspaceNotBindableError)) throw error;
        await rm(workspace, { recursive: true, force: true });
        workspace = undefined;
      }
    }
    if (!container) {
      const made = await timed(t, "volume create", () => engine.createVolume(labels));
      volume = made;
      const mount = { volumes: [{ source: made, target: "/kozmic" }] };
      const user =
        scriptUser ??
        (await timed(t, "script user", () =>
          lookupScriptUser(engine, spec, labels, mount.volumes),
        ));
      container = await create(user, mount);
      const tar = await tarDirectory(spec.sourceDir, {
        prefix: "kozmic",
        uid: user.uid,
        gid: user.gid,
        extra: files,
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
    const armStall = () => {
      clearTimeout(timer);
      const untilDeadline = spec.deadline - Date.now();
      if (untilDeadline <= spec.stallTimeoutMs) {
        timer = setTimeout(
          () => kill({ kind: "timed_out", reason: "job timeout reached" }),
          Math.max(0, untilDeadline),
        );
      } else {
        timer = setTimeout(
          () =>
            kill({
              kind: "timed_out",
              reason: `stall timeout: no output for ${spec.stallTimeoutMs / 1000}s`,
            }),
          spec.stallTimeoutMs,
        );
      }
    };
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    if (spec.signal?.aborted) return { kind: "cancelled" };
    armStall();
    const exitCode = await timed(t, "container run", () =>
      engine.run(id, (text) => {
        log.write(text);
        armStall();
      }),
    );
    clearTimeout(timer);
    if (stop) return stop;
    if (spec.afterExit) await spec.afterExit(id, exitCode);
    return { kind: "exited", exitCode };
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onAbort);
    const t = spec.timings;
    const [madeContainer, madeVolume, madeWorkspace] = [container, volume, workspace];
    const removal = (async () => {
      if (madeContainer) {
        await timed(t, "container remove", () => engine.removeContainer(madeContainer));
      }
      if (madeVolume) await timed(t, "volume remove", () => engine.removeVolume(madeVolume));
      if (madeWorkspace) {
        await timed(t, "workspace remove", () =>
          rm(madeWorkspace, { recursive: true, force: true, maxRetries: 3 }),
        );
      }
    })();
    if (spec.deferCleanup) {
      removal.catch(() => {}); // the caller sees the failure when it awaits; none unhandled
      spec.deferCleanup(removal);
    } else await removal;
  }
}
