import { InfrastructureError } from "../../src/core/errors.js";

/** The engine could not bind-mount a step's workspace: the caller uploads an archive instead. */
export class WorkspaceNotBindableError extends InfrastructureError {}

/** What the pipeline asks of a container engine. Docker implements it; a fake scripts it. */
export interface Engine {
  /** The image's ID and labels, or undefined when it is not on the host. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Pulls an image; throws InfrastructureError when it cannot. */
  pullImage(ref: string): Promise<void>;
  /**
   * Pulls `ref` from a registry with these credentials: "absent" when the registry answers
   * that it has no such image; an InfrastructureError when it cannot be asked (down, refused
   * credentials).
   */
  pullFromRegistry(ref: string, auth?: RegistryAuth): Promise<"pulled" | "absent">;
  /** Gives an image on the host one more name, `repository:tag`. */
  tagImage(imageId: string, repository: string, tag: string): Promise<void>;
  /** Pushes `repository:tag` to its registry; resolves with the manifest's digest. */
  pushImage(repository: string, tag: string, auth?: RegistryAuth): Promise<string>;
  /**
   * Whether a container can bind-mount a directory this process writes (ContainerSpec's
   * `workspace`): the engine is on this machine, sees its files as this process does, maps
   * no user namespace, and this process can give files to the script's user. Absent or
   * false: the step's files are uploaded as an archive.
   */
  bindsWorkspaces?(): Promise<boolean>;
  createVolume(labels: Record<string, string>): Promise<string>;
  /** Idempotent: a missing volume is not an error. */
  removeVolume(name: string): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Copies a tar stream into the (created or running) container at `path`. */
  putArchive(containerId: string, path: string, tar: NodeJS.ReadableStream): Promise<void>;
  /** Reads one file from a created container; undefined when absent. */
  readFile(containerId: string, path: string): Promise<string | undefined>;
  /**
   * Starts the container and calls `onOutput` with its stdout and stderr, in order, until
   * it exits. Resolves with the exit code. `stdin` (for a container created with `stdin`)
   * is streamed to the container's stdin; its end closes it.
   */
  run(
    containerId: string,
    onOutput: (text: string) => void,
    stdin?: NodeJS.ReadableStream,
  ): Promise<number>;
  /** Idempotent: killing a stopped or missing container is not an error. */
  killContainer(containerId: string): Promise<void>;
  /** Idempotent, safe after a failed start and when called twice. */
  removeContainer(containerId: string): Promise<void>;
  /** Commits the container to `repository:tag` with labels; returns the image ID. */
  commitContainer(
    containerId: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string>;
  /** Images carrying every one of these labels. */
  findImages(labels: Record<string, string>): Promise<ImageInfo[]>;
  /** Idempotent: a missing image is not an error. */
  removeImage(id: string): Promise<void>;
  /** IDs of containers (any state) carrying every one of these labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerInfo[]>;
  /** Names of volumes carrying every one of these labels (optional: leftovers cleanup). */
  listVolumes?(labels: Record<string, string>): Promise<string[]>;
}

/** Credentials for one registry, as Docker's API takes them. Never logged. */
export interface RegistryAuth {
  username: string;
  password: string;
  /** The registry's `host[:port]`. */
  serveraddress: string;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  size: number;
  created: number;
  /** The image's default user (`USER`), empty or undefined for root. */
  user?: string;
  /** `name@sha256:…` digests the image is known by in registries (`RepoDigests`). */
  digests?: string[];
}

export interface ContainerInfo {
  id: string;
  imageId: string;
  state: string;
  labels: Record<string, string>;
}

export interface ContainerSpec {
  name?: string;
  image: string;
  cmd: string[];
  env: Record<string, string>;
  user?: string;
  workingDir: string;
  labels: Record<string, string>;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** "none", "host" or the name of a Docker network. */
  network: string;
  volumes: { source: string; target: string }[];
  /** A directory of this machine bind-mounted at `/kozmic` (see Engine.bindsWorkspaces). */
  workspace?: string;
  /** Keeps stdin open for Engine.run's `stdin` (the helper waits there between two scripts). */
  stdin?: boolean;
  /** Docker's no-new-privileges: setuid programs such as sudo cannot gain privileges. */
  noNewPrivileges?: boolean;
  /** The OCI runtime (Docker's `--runtime`); undefined: the engine's default. */
  runtime?: string;
}
