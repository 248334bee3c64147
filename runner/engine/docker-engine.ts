import { rm } from "node:fs/promises";
import { connect } from "node:net";
import { PassThrough, type Readable } from "node:stream";
import { InfrastructureError } from "../../src/core/errors.js";
import { timed, type StepTimings } from "../pipeline/step-timings.js";
import { workspacesCanExec } from "../source/step-workspaces.js";
import { fillWorkspace, makeWorkspace } from "../source/write-workspace.js";
import { toDockerCreateOptions, type ContainerSpec } from "./docker-convert.js";
import Docker from "dockerode";
import type {
  ContainerInfo,
  Engine,
  ImageInfo,
  NetworkSpec,
  RegistryAuth,
  ServiceSpec,
  StepSpec,
} from "./port.js";
import { mountNoSuid, unmount } from "./step-mounts.js";

/** Docker could not bind-mount a step's directory: the step's files are uploaded instead. */
class WorkspaceNotBindableError extends InfrastructureError {}

/** What one step is made of, for its removal. */
interface DockerStep {
  container?: string;
  /** The `/kozmic` volume of an uploaded step. */
  volume?: string;
  /** The bind-mounted `/kozmic` directory of a bound step, and its files being written. */
  directory?: string;
  written?: Promise<void>;
  exited?: boolean;
  killed?: boolean;
}

function vanishedError(cause?: unknown): InfrastructureError {
  return new InfrastructureError(
    "the step's container was removed while it ran (by something other than this runner)",
    { cause },
  );
}

function engineStoppedError(cause?: unknown): InfrastructureError {
  return new InfrastructureError(
    "the Docker engine stopped while the step ran (it takes no new connections)",
    { cause },
  );
}

function volumeName(volume: unknown): string {
  const { Name, name } = volume as { name?: string; Name?: string };
  return (Name ?? name)!;
}

/** A step's container: the helper runs the script from the source's copy. */
function containerOf(
  spec: StepSpec,
  mount: Pick<ContainerSpec, "volumes" | "workspace">,
): ContainerSpec {
  return { ...spec, cmd: ["/bin/sh", "/kozmic/run.sh"], workingDir: "/kozmic/src", ...mount };
}

/** An InfrastructureError saying what failed, and why in Docker's words. */
function dockerFailed(what: string, error: unknown): InfrastructureError {
  return new InfrastructureError(`${what}: ${(error as Error).message}`, { cause: error });
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** The action's result; undefined when Docker answers with one of `codes` (404: no such thing). */
async function ignoring<T>(codes: number[], action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (!codes.includes(statusOf(error) ?? -1)) throw error;
    return undefined;
  }
}

/** Calls `onText` with a multiplexed stream's stdout and stderr; resolves when it ends. */
function demux(docker: Docker, stream: NodeJS.ReadableStream, onText: (text: string) => void) {
  const out = new PassThrough();
  out.on("data", (chunk: Buffer) => onText(chunk.toString()));
  docker.modem.demuxStream(stream, out, out);
  return new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
}

/**
 * Docker's answer to an exec in a container that is not running (or no longer there): 409
 * at create, or 500 "container not running" when it stopped between the exec's create and
 * its start.
 */
function notRunning(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 404 || status === 409) return true;
  return status === 500 && /not running/i.test((error as Error).message ?? "");
}

/** A registry's "no such image" as Docker relays it (status 404, or its words in a stream). */
const NOT_IN_REGISTRY = /manifest unknown|not found|does not exist/i;

interface ProgressEvent {
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

/** Follows a pull or push stream to its end; an error reported inside the stream rejects. */
function followStream(docker: Docker, stream: Readable): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: ProgressEvent[]) => {
      if (err) return reject(err);
      const failed = events.find((e) => e.error ?? e.errorDetail?.message);
      if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
      resolve(events);
    });
  });
}

function labelFilter(labels: Record<string, string>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

const PING_TIMEOUT_MS = 10_000;
/** How long a registry pull or push may go without a word from Docker (see withRegistry). */
const REGISTRY_SILENCE_MS = 60_000;
/** How often a running step checks that its engine still takes connections. */
const ENGINE_WATCH_MS = 2_000;
/**
 * How long a step's output may go on arriving after its exit. The output stream ends with the
 * step; if the engine left it open the job would wait for ever, past its own timeout.
 */
const OUTPUT_AFTER_EXIT_MS = 5_000;

/** Docker's words when a bind mount's source is not on the engine's side. */
const BIND_SOURCE_MISSING = /bind source path does not exist|invalid mount config for type "bind"/i;

/**
 * The only module that talks to the Docker daemon. A step's `/kozmic` is a directory this
 * process writes and Docker bind-mounts (`nosuid,nodev`) when it can (bindsWorkspaces), else
 * a volume its files are uploaded to as an archive.
 */
export class DockerEngine implements Engine {
  private bindable?: Promise<boolean>;
  private readonly steps = new Map<string, DockerStep>();

  private readonly registrySilenceMs: number;

  /**
   * `bind: false` uploads every step's files (as an engine elsewhere would need);
   * `registrySilenceMs`: how long a pull or push from a registry may go without a word
   * before it is given up on (default 60 s).
   */
  constructor(
    private readonly docker: Docker = new Docker(),
    options: { bind?: boolean; registrySilenceMs?: number } = {},
  ) {
    if (options.bind === false) this.bindable = Promise.resolve(false);
    this.registrySilenceMs = options.registrySilenceMs ?? REGISTRY_SILENCE_MS;
  }

  /**
   * Asked once per engine: an engine reached over its Unix socket, on Linux, without a
   * user-namespace remap (which would show our files' owners as nobody) and not rootless,
   * while this process is root (it gives the files to the script's user, and removes what
   * a root job wrote). A create that then finds the directory missing (an engine in
   * another mount namespace) turns it off for this engine.
   */
  bindsWorkspaces(): Promise<boolean> {
    this.bindable ??= (async () => {
      if (process.getuid?.() !== 0) return false;
      try {
        // Unset when DOCKER_HOST is tcp:// or ssh://; docker-modem finds a default lazily.
        const modem = this.docker.modem as { getSocketPath?: () => Promise<unknown> };
        const socketPath = await modem.getSocketPath?.();
        if (typeof socketPath !== "string" || !socketPath.startsWith("/")) return false;
        const info = (await this.docker.info()) as { OSType?: string; SecurityOptions?: string[] };
        const security = info.SecurityOptions ?? [];
        return info.OSType === "linux" && !security.some((o) => /name=(userns|rootless)/.test(o));
      } catch {
        return false;
      }
    })();
    return this.bindable;
  }

  /** Whether a step's files can be bound from a directory under `scratch`. */
  private async bindsWorkspacesAt(scratch: string): Promise<boolean> {
    const [engineCan, mountCan] = await Promise.all([
      this.bindsWorkspaces(),
      workspacesCanExec(scratch),
    ]);
    return engineCan && mountCan;
  }

  /** The daemon's version (for `kozmic doctor`); an InfrastructureError when it cannot be reached. */
  async version(): Promise<{ version: string; apiVersion: string }> {
    try {
      const v = await this.docker.version();
      return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (error) {
      throw dockerFailed("cannot reach Docker", error);
    }
  }

  async ping(): Promise<void> {
    try {
      if (!(await this.takesConnections())) throw new Error("it takes no new connections");
      // An engine that accepts the connection and never answers counts as down too.
      // (dockerode takes the signal; its types do not say so.)
      const ping = this.docker.ping.bind(this.docker) as unknown as (options: {
        abortSignal: AbortSignal;
      }) => Promise<unknown>;
      await ping({ abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    } catch (error) {
      throw dockerFailed("the Docker engine does not answer", error);
    }
  }

  /**
   * Whether the engine accepts a new connection. A stopping dockerd closes its socket at
   * once, then stops its containers for up to 10 s, while the connections it had (this
   * process keeps them alive) still answer as if nothing were wrong.
   */
  private async takesConnections(): Promise<boolean> {
    const modem = this.docker.modem as { getSocketPath?: () => Promise<unknown> };
    const socketPath = await modem.getSocketPath?.();
    if (typeof socketPath !== "string") return true; // over TCP: the ping tells
    return new Promise((resolve) => {
      const socket = connect(socketPath);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return {
        id: info.Id,
        tags: info.RepoTags ?? [],
        labels: info.Config?.Labels ?? {},
        size: info.Size,
        created: Date.parse(info.Created),
        user: info.Config?.User ?? "",
        digests: info.RepoDigests ?? [],
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw new InfrastructureError(`cannot inspect image ${ref}: ${String(error)}`, {
        cause: error,
      });
    }
  }

  async pullImage(ref: string): Promise<void> {
    try {
      const stream = (await this.docker.pull(ref)) as Readable;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null) =>
          err ? reject(err) : resolve(),
        );
      });
    } catch (error) {
      throw dockerFailed(`cannot pull image ${ref}`, error);
    }
  }

  async pullFromRegistry(ref: string, auth?: RegistryAuth): Promise<"pulled" | "absent"> {
    try {
      await this.withRegistry(
        (signal) =>
          this.docker.pull(ref, {
            ...(auth ? { authconfig: auth } : {}),
            abortSignal: signal,
          }) as Promise<Readable>,
      );
      return "pulled";
    } catch (error) {
      const message = (error as Error).message;
      if (statusOf(error) === 404 || NOT_IN_REGISTRY.test(message)) return "absent";
      throw new InfrastructureError(`cannot pull ${ref}: ${message}`, { cause: error });
    }
  }

  /**
   * One pull or push, followed to its end, and given up on once Docker has relayed nothing
   * for registrySilenceMs: Docker itself waits for ever on a registry that accepts the
   * connection and never answers.
   */
  private async withRegistry(
    open: (signal: AbortSignal) => Promise<Readable>,
  ): Promise<ProgressEvent[]> {
    const abort = new AbortController();
    const seconds = Math.round(this.registrySilenceMs / 1000);
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const silence = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason as Error));
    });
    const heard = () => {
      clearTimeout(timer);
      if (over) return;
      timer = setTimeout(
        () => abort.abort(new Error(`the registry did not answer for ${seconds} s`)),
        this.registrySilenceMs,
      );
    };
    heard();
    const work = open(abort.signal).then((stream) => {
      heard();
      stream.on("data", heard);
      return followStream(this.docker, stream);
    });
    work.catch(() => {}); // raced below: given up on, it may fail later
    try {
      return await Promise.race([work, silence]);
    } finally {
      over = true;
      clearTimeout(timer);
    }
  }

  async tagImage(imageId: string, repository: string, tag: string): Promise<void> {
    await this.docker.getImage(imageId).tag({ repo: repository, tag });
  }

  async pushImage(repository: string, tag: string, auth?: RegistryAuth): Promise<string> {
    try {
      const events = await this.withRegistry(
        (signal) =>
          this.docker.getImage(repository).push({
            tag,
            ...(auth ? { authconfig: auth } : {}),
            abortSignal: signal,
          }) as Promise<Readable>,
      );
      const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
      if (!digest) throw new Error("the registry answered without a digest");
      return digest;
    } catch (error) {
      throw dockerFailed(`cannot push ${repository}:${tag}`, error);
    }
  }

  /** Creates a container (a step's, or a probe of an image); Docker's words when it cannot. */
  async createContainer(spec: ContainerSpec): Promise<string> {
    try {
      const container = await this.docker.createContainer(toDockerCreateOptions(spec));
      return container.id;
    } catch (error) {
      if (spec.workspace && BIND_SOURCE_MISSING.test((error as Error).message)) {
        this.bindable = Promise.resolve(false);
        throw new WorkspaceNotBindableError(
          `Docker cannot see ${spec.workspace}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      // Docker's own words say what is wrong (an unknown runtime, a limit the host lacks).
      throw dockerFailed(`Docker cannot create a container of ${spec.image}`, error);
    }
  }

  async createStep(spec: StepSpec): Promise<string> {
    const step: DockerStep = {};
    try {
      const scratch = spec.scratchDir;
      if (scratch !== undefined && (await this.bindsWorkspacesAt(scratch))) {
        const bound = await this.createBoundStep(spec, scratch, step);
        if (bound) return bound;
      }
      return await this.createUploadedStep(spec, step);
    } catch (error) {
      await this.removeStep(step, spec.timings);
      throw error;
    }
  }

  /** The step's files written where the container sees them: no archive upload. */
  private async createBoundStep(
    spec: StepSpec,
    scratch: string,
    step: DockerStep,
  ): Promise<string | undefined> {
    const t = spec.timings;
    const dir = await makeWorkspace(scratch, spec.files);
    step.directory = dir;
    // Written while the container is created: Docker needs the directory, not its files.
    const mounted = mountNoSuid(dir).catch((error: unknown) => {
      throw new WorkspaceNotBindableError(`cannot mount ${dir} nosuid,nodev: ${String(error)}`);
    });
    const written = timed(t, "source copy", () =>
      Promise.all([fillWorkspace(dir, spec.files), mounted]),
    ).then(() => {});
    step.written = written;
    written.catch(() => {}); // awaited below, and before the directory is removed
    try {
      step.container = await timed(t, "container create", () =>
        this.createContainer(containerOf(spec, { volumes: [], workspace: dir })),
      );
      await written;
    } catch (error) {
      if (!(error instanceof WorkspaceNotBindableError)) throw error;
      this.bindable = Promise.resolve(false); // asked again by no later step
      await this.removeStep(step, t);
      Object.assign(step, { container: undefined, directory: undefined, written: undefined });
      return undefined;
    }
    this.steps.set(step.container, step);
    return step.container;
  }

  private async createUploadedStep(spec: StepSpec, step: DockerStep): Promise<string> {
    const t = spec.timings;
    const volume = await timed(t, "volume create", () =>
      this.docker.createVolume({ Labels: spec.labels }).then(volumeName),
    );
    step.volume = volume;
    const container = await timed(t, "container create", () =>
      this.createContainer(containerOf(spec, { volumes: [{ source: volume, target: "/kozmic" }] })),
    );
    step.container = container;
    // Loaded on this way only: a bound step never packs an archive.
    const { packStepFiles } = await import("../source/tar-directory.js");
    const tar = await packStepFiles(spec.files);
    await timed(t, "source upload", () =>
      this.docker.getContainer(container).putArchive(tar as unknown as NodeJS.ReadableStream, {
        path: "/",
      }),
    );
    this.steps.set(container, step);
    return container;
  }

  async runStep(id: string, onOutput: (text: string) => void): Promise<number> {
    const step = this.steps.get(id);
    let exitCode: number;
    try {
      exitCode = await this.run(id, onOutput);
    } catch (error) {
      throw (await this.lostStep(id, error)) ?? error;
    }
    if (step) step.exited = true;
    // Killed by a signal, and not by killStep: removed under the job, or stopped with the
    // engine (a stopping dockerd kills its containers: 137 is then no answer of the job's).
    if (exitCode >= 128 && !step?.killed) {
      const lost = await this.lostStep(id);
      if (lost) throw lost;
    }
    return exitCode;
  }

  /**
   * Why a step ended that was not its own doing: its container gone or being removed
   * (`docker rm -f` marks it first, then kills it), or the engine no longer answering.
   */
  private async lostStep(id: string, cause?: unknown): Promise<InfrastructureError | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      if (info.State?.Status === "removing") return vanishedError(cause);
      return (await this.takesConnections()) ? undefined : engineStoppedError(cause);
    } catch (error) {
      if (statusOf(error) === 404) return vanishedError(cause);
      if (statusOf(error) !== undefined) return undefined;
      return new InfrastructureError(
        `the Docker engine stopped while the step ran (${(error as Error).message})`,
        { cause: cause ?? error },
      );
    }
  }

  private async run(id: string, onOutput: (text: string) => void): Promise<number> {
    const container = this.docker.getContainer(id);
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void };
    const ended = demux(this.docker, stream, onOutput);
    try {
      await container.start();
    } catch (error) {
      stream.destroy();
      throw error;
    }
    // Asked after the start, for "not running": answered at once when the step has already
    // exited. A "next-exit" wait sent before the start (as `docker run` does) could reach
    // the engine after a quick step's exit and then wait for ever.
    const waitAbort = new AbortController();
    const exited = container.wait({
      condition: "not-running",
      abortSignal: waitAbort.signal,
    }) as Promise<{ StatusCode: number }>;
    exited.catch(() => {}); // raced below with the engine's watch
    const watch = this.watchEngine();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([exited, watch.gone]);
      await Promise.race([
        ended,
        new Promise((r) => (timer = setTimeout(r, OUTPUT_AFTER_EXIT_MS))),
      ]);
      return result.StatusCode;
    } catch (error) {
      waitAbort.abort();
      throw error;
    } finally {
      clearTimeout(timer);
      watch.stop();
      stream.destroy();
    }
  }

  /**
   * Rejects `gone` once the engine takes no new connections: a dockerd killed with -9 leaves
   * the step's wait unanswered for ever (its containers run on under containerd).
   */
  private watchEngine(): { gone: Promise<never>; stop(): void } {
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        void this.takesConnections().then((takes) => {
          if (takes || timer === undefined) return;
          reject(engineStoppedError());
        });
      }, ENGINE_WATCH_MS);
    });
    gone.catch(() => {}); // raced above; may reject after the step ended
    return {
      gone,
      stop: () => {
        clearInterval(timer);
        timer = undefined;
      },
    };
  }

  async killStep(id: string): Promise<void> {
    const step = this.steps.get(id);
    if (step) step.killed = true;
    await ignoring([404, 409, 304], () => this.docker.getContainer(id).kill());
  }

  async readStepSource(id: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
    const parts = path.split("/").filter((part) => part !== "" && part !== ".");
    if (parts.includes("..")) return undefined;
    // The container has exited: nothing changes what was checked before it is read.
    for (let i = 0; i < parts.length; i++) {
      const dir = ["/kozmic/src", ...parts.slice(0, i)].join("/");
      if (!(await this.isPlainDirectory(id, dir))) return undefined;
    }
    // Docker follows symlinks on the way to the path's last component, never that one.
    const full = ["/kozmic/src", ...parts].join("/");
    return ignoring([404], () => this.docker.getContainer(id).getArchive({ path: full }));
  }

  /** Whether a path of a container is a directory itself, not a symlink to one. */
  private async isPlainDirectory(id: string, path: string): Promise<boolean> {
    const response = (await ignoring([404], () =>
      this.docker.getContainer(id).infoArchive({ path }),
    )) as { headers?: Record<string, string | undefined>; resume?: () => void } | undefined;
    if (!response) return false;
    response.resume?.();
    const header = response.headers?.["x-docker-container-path-stat"];
    if (!header) return false;
    const stat = JSON.parse(Buffer.from(header, "base64").toString()) as {
      mode: number;
      linkTarget?: string;
    };
    // Go's FileMode bits: ModeDir is 1<<31, ModeSymlink 1<<27.
    const mode = stat.mode >>> 0;
    return (mode & 0x80000000) !== 0 && (mode & 0x8000000) === 0 && !stat.linkTarget;
  }

  async commitStep(
    id: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string> {
    const result = (await this.docker.getContainer(id).commit({
      repo: repository,
      tag,
      pause: false, // the step has exited: nothing runs that a pause would freeze
      changes: Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
    })) as { Id: string };
    return result.Id;
  }

  async destroyStep(id: string, timings?: StepTimings): Promise<void> {
    const step = this.steps.get(id) ?? { container: id };
    this.steps.delete(id);
    await this.removeStep(step, timings);
  }

  /**
   * Removes what a step is made of. A container that exited writes nothing more: its
   * directory goes beside it; else (an error while it may run) once it is gone.
   */
  private async removeStep(step: DockerStep, t?: StepTimings): Promise<void> {
    const { container, volume, directory } = step;
    const containerGone = (async () => {
      if (container) {
        await timed(t, "container remove", () => this.removeContainer(container));
      }
      if (volume) await timed(t, "volume remove", () => this.removeVolume(volume));
    })();
    const directoryGone = (async () => {
      if (!directory) return;
      if (!step.exited) await containerGone.catch(() => {});
      await step.written?.catch(() => {});
      await timed(t, "workspace remove", async () => {
        await unmount(directory);
        await rm(directory, { recursive: true, force: true, maxRetries: 3 });
      });
    })();
    await Promise.all([containerGone, directoryGone]);
  }

  async readImageFile(
    image: string,
    path: string,
    labels: Record<string, string>,
  ): Promise<string | undefined> {
    // A created, never started container: nothing of the image runs.
    const probe = await this.createContainer({
      image,
      cmd: ["/bin/sh"],
      env: {},
      workingDir: "/",
      labels,
      memoryBytes: 64 * 1024 ** 2,
      nanoCpus: 1e8,
      pidsLimit: 16,
      network: "none",
      volumes: [],
    });
    try {
      return await this.readStepFile(probe, path);
    } finally {
      await this.removeContainer(probe);
    }
  }

  private async removeVolume(name: string): Promise<void> {
    await ignoring([404], () => this.docker.getVolume(name).remove({ force: true }));
  }

  async removeLabelled(labels: Record<string, string>): Promise<void> {
    for (const container of await this.listContainers(labels))
      await this.removeContainer(container.id);
    const volumes = await this.docker.listVolumes({ filters: labelFilter(labels) });
    for (const volume of volumes.Volumes ?? []) await this.removeVolume(volume.Name);
    for (const network of await this.listNetworks(labels)) await this.removeNetwork(network);
  }

  async createNetwork(spec: NetworkSpec): Promise<void> {
    try {
      await this.docker.createNetwork({
        Name: spec.name,
        Driver: "bridge",
        Internal: spec.internal,
        Labels: spec.labels,
        CheckDuplicate: true,
      });
    } catch (error) {
      throw dockerFailed(`Docker cannot create the job's network ${spec.name}`, error);
    }
  }

  async removeNetwork(name: string): Promise<void> {
    await ignoring([404], () => this.docker.getNetwork(name).remove());
  }

  async listNetworks(labels: Record<string, string>): Promise<string[]> {
    const networks = await this.docker.listNetworks({ filters: labelFilter(labels) });
    return networks.map((n) => n.Name);
  }

  /** A service's container runs its image's entrypoint; its output is followed from before the start. */
  async startService(spec: ServiceSpec, onOutput: (text: string) => void): Promise<string> {
    const id = await this.createContainer({ ...spec, volumes: [] });
    const container = this.docker.getContainer(id);
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      void demux(this.docker, stream, onOutput);
      await container.start();
    } catch (error) {
      await this.removeContainer(id).catch(() => {});
      throw dockerFailed("Docker cannot start the service's container", error);
    }
    return id;
  }

  async execInService(
    id: string,
    command: string[],
    maxBytes: number,
  ): Promise<{ exitCode: number; output: string } | undefined> {
    let output = "";
    try {
      const exec = await this.docker.getContainer(id).exec({
        Cmd: command,
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      await demux(this.docker, stream, (text) => {
        output = (output + text).slice(-maxBytes);
      });
      const info = await exec.inspect();
      if (info.Running || info.ExitCode === null) return undefined;
      return { exitCode: info.ExitCode, output };
    } catch (error) {
      if (notRunning(error)) return undefined;
      throw error;
    }
  }

  removeService(id: string): Promise<void> {
    return this.removeContainer(id);
  }

  /** Removes a container and its anonymous volumes; one already gone (or going) is no error. */
  private async removeContainer(id: string): Promise<void> {
    await ignoring([404, 409], () => this.docker.getContainer(id).remove({ force: true, v: true }));
  }

  async hasNetwork(name: string): Promise<boolean> {
    return (await ignoring([404], () => this.docker.getNetwork(name).inspect())) !== undefined;
  }

  /** A file of a container: of an exited step's, or of the probe readImageFile creates. */
  async readStepFile(id: string, path: string, maxBytes = Infinity): Promise<string | undefined> {
    const archive = await ignoring([404], () => this.docker.getContainer(id).getArchive({ path }));
    if (!archive) return undefined;
    // Loaded here only: a run rarely reads a file (through `default`, as a CommonJS module's
    // exports are in the bundle as well as in Node).
    const { default: tarStream } = await import("tar-stream");
    const ex = tarStream.extract();
    let text: string | undefined;
    ex.on("entry", (header, stream, next) => {
      if ((header.size ?? 0) > maxBytes) {
        stream.on("end", () => next());
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c) => chunks.push(c as Buffer));
      stream.on("end", () => {
        if (header.type === "file" && text === undefined) text = Buffer.concat(chunks).toString();
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      ex.on("finish", resolve);
      ex.on("error", reject);
      archive.pipe(ex);
    });
    return text;
  }

  async findImages(labels: Record<string, string>): Promise<ImageInfo[]> {
    const images = await this.docker.listImages({ filters: labelFilter(labels) });
    return images.map((i) => ({
      id: i.Id,
      tags: i.RepoTags ?? [],
      labels: i.Labels ?? {},
      size: i.Size,
      created: i.Created * 1000,
    }));
  }

  async removeImage(id: string): Promise<void> {
    await ignoring([404], () => this.docker.getImage(id).remove({ force: true }));
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: labelFilter(labels),
    });
    return containers.map((c) => ({
      id: c.Id,
      imageId: c.ImageID,
      state: c.State,
      labels: c.Labels ?? {},
    }));
  }
}
