import { PassThrough, type Readable } from "node:stream";
import { InfrastructureError } from "../../src/core/errors.js";
import { toDockerCreateOptions } from "./docker-convert.js";
import Docker from "dockerode";
import {
  WorkspaceNotBindableError,
  type ContainerInfo,
  type ContainerSpec,
  type Engine,
  type ImageInfo,
  type RegistryAuth,
} from "./port.js";

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

async function ignoring(codes: number[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!codes.includes(statusOf(error) ?? -1)) throw error;
  }
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

/** Docker's words when a bind mount's source is not on the engine's side. */
const BIND_SOURCE_MISSING = /bind source path does not exist|invalid mount config for type "bind"/i;

/** The only module that talks to the Docker daemon. */
export class DockerEngine implements Engine {
  private bindable?: Promise<boolean>;

  constructor(private readonly docker: Docker = new Docker()) {}

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

  /** The daemon's version (for `kozmic doctor`); an InfrastructureError when it cannot be reached. */
  async version(): Promise<{ version: string; apiVersion: string }> {
    try {
      const v = await this.docker.version();
      return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (error) {
      throw new InfrastructureError(`cannot reach Docker: ${(error as Error).message}`, {
        cause: error,
      });
    }
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
      throw new InfrastructureError(`cannot pull image ${ref}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async pullFromRegistry(ref: string, auth?: RegistryAuth): Promise<"pulled" | "absent"> {
    try {
      const stream = (await this.docker.pull(ref, auth ? { authconfig: auth } : {})) as Readable;
      await followStream(this.docker, stream);
      return "pulled";
    } catch (error) {
      const message = (error as Error).message;
      if (statusOf(error) === 404 || NOT_IN_REGISTRY.test(message)) return "absent";
      throw new InfrastructureError(`cannot pull ${ref}: ${message}`, { cause: error });
    }
  }

  async tagImage(imageId: string, repository: string, tag: string): Promise<void> {
    await this.docker.getImage(imageId).tag({ repo: repository, tag });
  }

  async pushImage(repository: string, tag: string, auth?: RegistryAuth): Promise<string> {
    try {
      const stream = (await this.docker
        .getImage(repository)
        .push({ tag, ...(auth ? { authconfig: auth } : {}) })) as Readable;
      const events = await followStream(this.docker, stream);
      const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
      if (!digest) throw new Error("the registry answered without a digest");
      return digest;
    } catch (error) {
      throw new InfrastructureError(
        `cannot push ${repository}:${tag}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async createVolume(labels: Record<string, string>): Promise<string> {
    const volume = (await this.docker.createVolume({ Labels: labels })) as unknown as {
      name?: string;
      Name?: string;
    };
    return (volume.Name ?? volume.name)!;
  }

  async removeVolume(name: string): Promise<void> {
    await ignoring([404], () => this.docker.getVolume(name).remove({ force: true }));
  }

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
      throw new InfrastructureError(
        `Docker cannot create a container of ${spec.image}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async putArchive(containerId: string, path: string, tar: NodeJS.ReadableStream): Promise<void> {
    await this.docker.getContainer(containerId).putArchive(tar, { path });
  }

  async readFile(containerId: string, path: string): Promise<string | undefined> {
    let archive: NodeJS.ReadableStream;
    try {
      archive = await this.docker.getContainer(containerId).getArchive({ path });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    // Loaded here only: a run rarely reads a file (through `default`, as a CommonJS module's
    // exports are in the bundle as well as in Node).
    const { default: tarStream } = await import("tar-stream");
    const ex = tarStream.extract();
    let text: string | undefined;
    ex.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => {
        chunks.push(c as Buffer);
      });
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

  async run(
    containerId: string,
    onOutput: (text: string) => void,
    stdin?: NodeJS.ReadableStream,
  ): Promise<number> {
    const container = this.docker.getContainer(containerId);
    const stream = await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
      ...(stdin ? { stdin: true, hijack: true } : {}),
    });
    if (stdin) stdin.pipe(stream as NodeJS.WritableStream);
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => onOutput(chunk.toString()));
    this.docker.modem.demuxStream(stream, out, out);
    const ended = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => resolve());
    });
    // Asked before the start, as `docker run` does: the exit is then told as it happens, not
    // after one more request once the start has answered (5-20 ms here). A start that
    // fails leaves this wait with nothing to wait for: it is aborted.
    const waitAbort = new AbortController();
    const exited = container.wait({
      condition: "next-exit",
      abortSignal: waitAbort.signal,
    }) as Promise<{ StatusCode: number }>;
    exited.catch(() => {}); // read below, or given up when the start fails
    try {
      await container.start();
    } catch (error) {
      waitAbort.abort();
      (stream as unknown as { destroy(): void }).destroy();
      throw error;
    }
    const result = await exited;
    await ended;
    return result.StatusCode;
  }

  async killContainer(containerId: string): Promise<void> {
    await ignoring([404, 409, 304], () => this.docker.getContainer(containerId).kill());
  }

  async removeContainer(containerId: string): Promise<void> {
    await ignoring([404, 409], () =>
      this.docker.getContainer(containerId).remove({ force: true, v: true }),
    );
  }

  async commitContainer(
    containerId: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string> {
    const result = (await this.docker.getContainer(containerId).commit({
      repo: repository,
      tag,
      // Kozmic commits a stopped container, or one whose helper waits on stdin with the
      // script's processes killed (run-step.ts): freezing it would only add ~90 ms.
      pause: false,
      changes: Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
    })) as { Id: string };
    return result.Id;
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

  async listVolumes(labels: Record<string, string>): Promise<string[]> {
    const result = await this.docker.listVolumes({ filters: labelFilter(labels) });
    return (result.Volumes ?? []).map((v) => v.Name);
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
