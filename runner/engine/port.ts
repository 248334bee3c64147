import type { StepTimings } from "../pipeline/step-timings.js";

/**
 * What the pipeline asks of a container engine, in steps (as Woodpecker's backends do):
 * create a step (its container and its `/kozmic`), run it, commit it, destroy it. How a
 * step's files reach its container is the engine's business. Docker implements it; a fake
 * scripts it; one contract suite runs on both.
 */
export interface Engine {
  /** Resolves when the engine answers; an InfrastructureError when it does not (down, restarting). */
  ping(): Promise<void>;
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
  /** Images carrying every one of these labels. */
  findImages(labels: Record<string, string>): Promise<ImageInfo[]>;
  /** Idempotent: a missing image is not an error. */
  removeImage(id: string): Promise<void>;
  /** One file of an image, read without running it; undefined when absent. */
  readImageFile(
    image: string,
    path: string,
    labels: Record<string, string>,
  ): Promise<string | undefined>;

  /**
   * Creates a step: a new container of `spec.image` whose `/kozmic` holds the step's files.
   * Resolves with the step's id. A step that failed to be created leaves nothing behind.
   */
  createStep(spec: StepSpec): Promise<string>;
  /**
   * Starts the step and calls `onOutput` with its stdout and stderr, in order, until it
   * exits; resolves with the exit code. A container removed under it (by anyone but
   * killStep) is an InfrastructureError, never an exit code.
   */
  runStep(id: string, onOutput: (text: string) => void): Promise<number>;
  /** Idempotent: killing an exited or destroyed step is not an error. */
  killStep(id: string): Promise<void>;
  /**
   * Reads one file of an exited step's container, its `/kozmic` included; undefined when
   * absent, not a regular file, or longer than `maxBytes`.
   */
  readStepFile(id: string, path: string, maxBytes?: number): Promise<string | undefined>;
  /**
   * A tar stream of `path`, relative to an exited step's `/kozmic/src` ("" for the whole
   * of it), as the job left it: entries are named from the path's last component, and a
   * symlink is an entry, never followed. Undefined when the path is absent or a directory
   * on the way to it (`/kozmic/src` included) is not a directory or is a symlink, so that
   * nothing outside `/kozmic/src` is ever read.
   */
  readStepSource(id: string, path: string): Promise<NodeJS.ReadableStream | undefined>;
  /** Commits an exited step's container to `repository:tag` with labels; the image ID. */
  commitStep(
    id: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string>;
  /** Removes the step's container and files. Idempotent, safe after a failed start. */
  destroyStep(id: string, timings?: StepTimings): Promise<void>;

  /**
   * Creates a job's own network: a user-defined bridge its services and build share, where
   * each service is found by its alias; `internal`: no route out of it.
   */
  createNetwork(spec: NetworkSpec): Promise<void>;
  /** Idempotent: a missing network is not an error. Its containers must be gone first. */
  removeNetwork(name: string): Promise<void>;
  /**
   * Creates and starts a service's container and calls `onOutput` with its stdout and stderr
   * until it stops; resolves with its id once it runs. One that fails to start leaves nothing
   * behind.
   */
  startService(spec: ServiceSpec, onOutput: (text: string) => void): Promise<string>;
  /**
   * Runs `command` in a running service's container: its exit code and output (at most
   * `maxBytes`, the last ones); undefined when the service is not running.
   */
  execInService(
    id: string,
    command: string[],
    maxBytes: number,
  ): Promise<{ exitCode: number; output: string } | undefined>;
  /** Removes a service's container. Idempotent. */
  removeService(id: string): Promise<void>;

  /** Containers (any state) carrying every one of these labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerInfo[]>;
  /** Removes containers, their volumes, then networks carrying every one of these labels. */
  removeLabelled(labels: Record<string, string>): Promise<void>;
  /** Names of the networks carrying every one of these labels. */
  listNetworks(labels: Record<string, string>): Promise<string[]>;
  /** Whether the engine has a network of this name (`bridge` is missing under --bridge=none). */
  hasNetwork(name: string): Promise<boolean>;
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

/** A file (or directory) of a step's `/kozmic` beside its source: the helper, script, secrets. */
export interface ExtraFile {
  path: string;
  content: string;
  mode: number;
  /** A directory (`content` ignored); a file when absent. */
  type?: "directory";
}

/** What `/kozmic` holds: a copy of `sourceDir` at `src/` and the extra files, all uid/gid's. */
export interface StepFiles {
  sourceDir: string;
  uid: number;
  gid: number;
  extra: ExtraFile[];
  /** Absolute paths inside `sourceDir` left out (Kozmic's data directory). */
  exclude?: readonly string[];
}

/** Who a container runs as, what it may use and where it is connected. */
export interface ContainerLimits {
  user?: string;
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** "none", "host" or the name of a Docker network. */
  network: string;
  /** Docker's no-new-privileges: setuid programs such as sudo cannot gain privileges. */
  noNewPrivileges?: boolean;
  /** The OCI runtime (Docker's `--runtime`); undefined: the engine's default. */
  runtime?: string;
}

/** One script's container: its command is `/bin/sh /kozmic/run.sh`, run from /kozmic/src. */
export interface StepSpec extends ContainerLimits {
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  files: StepFiles;
  /** Where the engine may write the step's `/kozmic` as a directory to bind-mount. */
  scratchDir?: string;
  timings?: StepTimings;
}

/** A job's own network (see Engine.createNetwork). */
export interface NetworkSpec {
  name: string;
  labels: Record<string, string>;
  /** No route out: for a job whose network would otherwise be `none`. */
  internal: boolean;
}

/** A service's container: the image's own entrypoint, on a job's network under `alias`. */
export interface ServiceSpec extends Omit<ContainerLimits, "user"> {
  image: string;
  /** Replaces the image's CMD; undefined: the image's. */
  cmd?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  alias: string;
}

/** `engine` with `overrides` in place of its own methods; every other call goes to it. */
export function withMethods<E extends Engine>(engine: E, overrides: Partial<Engine>): E {
  return new Proxy(engine, {
    get(target, property) {
      const own = overrides[property as keyof Engine];
      if (own) return own;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
