import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { InfrastructureError } from "../../src/core/errors.js";
import type { ContainerSpec } from "./docker-convert.js";
import type { NetworkSpec, ServiceSpec } from "./port.js";

/** Docker's part of a job's services: its network, the services' containers, their checks. */

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
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

export async function createNetwork(docker: Docker, spec: NetworkSpec): Promise<void> {
  try {
    await docker.createNetwork({
      Name: spec.name,
      Driver: "bridge",
      Internal: spec.internal,
      Labels: spec.labels,
      CheckDuplicate: true,
    });
  } catch (error) {
    throw new InfrastructureError(
      `Docker cannot create the job's network ${spec.name}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

export async function listNetworks(
  docker: Docker,
  labels: Record<string, string>,
): Promise<string[]> {
  const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  const networks = await docker.listNetworks({ filters });
  return networks.map((n) => n.Name);
}

/** The container spec of a service: its image's entrypoint, the job's limits, its alias. */
export function serviceContainer(spec: ServiceSpec): ContainerSpec {
  return {
    image: spec.image,
    ...(spec.cmd ? { cmd: spec.cmd } : {}),
    env: spec.env,
    labels: spec.labels,
    memoryBytes: spec.memoryBytes,
    nanoCpus: spec.nanoCpus,
    pidsLimit: spec.pidsLimit,
    network: spec.network,
    alias: spec.alias,
    volumes: [],
    ...(spec.noNewPrivileges ? { noNewPrivileges: true } : {}),
    ...(spec.runtime ? { runtime: spec.runtime } : {}),
  };
}

/** Starts a created service container, its output followed from before the start. */
export async function startService(
  docker: Docker,
  id: string,
  onOutput: (text: string) => void,
): Promise<void> {
  const container = docker.getContainer(id);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    void demux(docker, stream, onOutput);
    await container.start();
  } catch (error) {
    await container.remove({ force: true, v: true }).catch(() => {});
    throw new InfrastructureError(
      `Docker cannot start the service's container: ${(error as Error).message}`,
      { cause: error },
    );
  }
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

export async function execInService(
  docker: Docker,
  id: string,
  command: string[],
  maxBytes: number,
): Promise<{ exitCode: number; output: string } | undefined> {
  let output = "";
  try {
    const exec = await docker.getContainer(id).exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    await demux(docker, stream, (text) => {
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
