import { hostname } from "node:os";
import { withMethods, type Engine } from "../engine/port.js";

export const RUNNER_LABEL = "kozmic.runner";
/** The host of the runner that made a container: another host's containers are never removed. */
export const RUNNER_HOST_LABEL = "kozmic.runner.host";

/**
 * The engine with `kozmic.runner=<name>` and `kozmic.runner.host=<host>` on every container,
 * volume and network it creates.
 */
export function labelEngine(engine: Engine, runnerName: string, host = hostname()): Engine {
  const labels = { [RUNNER_LABEL]: runnerName, [RUNNER_HOST_LABEL]: host };
  return withMethods(engine, {
    createStep: (spec) => engine.createStep({ ...spec, labels: { ...spec.labels, ...labels } }),
    createNetwork: (spec) =>
      engine.createNetwork({ ...spec, labels: { ...spec.labels, ...labels } }),
    startService: (spec, onOutput) =>
      engine.startService({ ...spec, labels: { ...spec.labels, ...labels } }, onOutput),
    readImageFile: (image, path, fileLabels) =>
      engine.readImageFile(image, path, { ...fileLabels, ...labels }),
  });
}

/**
 * Removes the containers (with their volumes, and the jobs' networks) a previous life of this
 * runner on this host left when it was killed mid-job; their jobs are taken over by whichever
 * runner receives them once the lease expires. Containers of a runner with the same name on another host are left alone
 * and named: that is a second runner given this runner's name. Returns the job ids removed and
 * those other hosts.
 */
export async function removeLeftoverContainers(
  engine: Engine,
  runnerName: string,
  host = hostname(),
): Promise<{ jobs: string[]; otherHosts: string[] }> {
  const found = await engine.listContainers({ [RUNNER_LABEL]: runnerName });
  const ours = found.filter((c) => (c.labels[RUNNER_HOST_LABEL] ?? host) === host);
  await engine.removeLabelled({ [RUNNER_LABEL]: runnerName, [RUNNER_HOST_LABEL]: host });
  // Made before containers carried their host.
  for (const c of ours.filter((c) => c.labels[RUNNER_HOST_LABEL] === undefined))
    await engine.destroyStep(c.id);
  return {
    jobs: [...new Set(ours.map((c) => c.labels["kozmic.job"] ?? "?"))],
    otherHosts: otherHosts(found, host),
  };
}

/** The hosts, other than `host`, of containers carrying a runner's name. */
export function otherHosts(
  containers: { labels: Record<string, string> }[],
  host: string,
): string[] {
  const hosts = containers.map((c) => c.labels[RUNNER_HOST_LABEL]);
  return [...new Set(hosts.filter((h): h is string => h !== undefined && h !== host))];
}
