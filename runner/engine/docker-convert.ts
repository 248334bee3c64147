import { posix } from "node:path";
import type Docker from "dockerode";
import type { ContainerLimits } from "./port.js";

/** One container, as the Docker adapter creates it (a step's, or a probe of an image). */
export interface ContainerSpec extends ContainerLimits {
  image: string;
  /** Undefined: the image's CMD (a service's). */
  cmd?: string[];
  env: Record<string, string>;
  /** Undefined: the image's (a service's). */
  workingDir?: string;
  labels: Record<string, string>;
  /** The name others on `network` find the container by (a service's). */
  alias?: string;
  volumes: { source: string; target: string }[];
  /** A directory of this machine bind-mounted at `/kozmic` (see DockerEngine.bindsWorkspaces). */
  workspace?: string;
}

/** The body of Docker's `POST /containers/create`; Kozmic always sets its HostConfig. */
type DockerCreateOptions = Docker.ContainerCreateOptions & { HostConfig: Docker.HostConfig };

const OFFLINE_HOSTNAME = "kozmic";

/**
 * Pure: a step container spec to Docker's create options. Never privileged, no socket,
 * Docker's default seccomp profile and capabilities less NET_RAW (no packet sniffing on a
 * shared network); no-new-privileges only when asked, since it stops sudo.
 *
 * Without a network Docker lists no address for the container's own name, and sudo warns
 * "unable to resolve host" on every call; the name gets 127.0.1.1, as Debian does.
 */
export function toDockerCreateOptions(spec: ContainerSpec): DockerCreateOptions {
  for (const volume of spec.volumes) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(volume.source)) {
      throw new Error(`refusing to mount "${volume.source}": only named volumes are allowed`);
    }
  }
  const plainPath = (path: string) =>
    posix.isAbsolute(path) && posix.normalize(path) === path && path !== "/" && !path.endsWith("/");
  if (spec.workspace !== undefined && !plainPath(spec.workspace)) {
    throw new Error(
      `refusing to mount "${spec.workspace}": a workspace is an absolute, plain path`,
    );
  }
  const workspace = spec.workspace
    ? [{ Type: "bind" as const, Source: spec.workspace, Target: "/kozmic" }]
    : [];
  return {
    Image: spec.image,
    ...(spec.network === "none" ? { Hostname: OFFLINE_HOSTNAME } : {}),
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Env: Object.entries(spec.env)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    Labels: spec.labels,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      NetworkMode: spec.network,
      Privileged: false,
      ...(spec.network === "none" ? { ExtraHosts: [`${OFFLINE_HOSTNAME}:127.0.1.1`] } : {}),
      ...(spec.runtime ? { Runtime: spec.runtime } : {}),
      Mounts: [
        ...spec.volumes.map((v) => ({
          Type: "volume" as const,
          Source: v.source,
          Target: v.target,
        })),
        ...workspace,
      ],
      SecurityOpt: spec.noNewPrivileges ? ["no-new-privileges"] : [],
      CapDrop: ["NET_RAW", "SYS_ADMIN"],
    },
    ...(spec.alias
      ? { NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: [spec.alias] } } } }
      : {}),
  };
}
