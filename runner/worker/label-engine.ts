import type { Engine } from "../engine/port.js";

export const RUNNER_LABEL = "kozmic.runner";

/** The engine with `kozmic.runner=<name>` on every container and volume it creates. */
export function labelEngine(engine: Engine, runnerName: string): Engine {
  const labels = { [RUNNER_LABEL]: runnerName };
  return {
    inspectImage: (ref) => engine.inspectImage(ref),
    pullImage: (ref) => engine.pullImage(ref),
    pullFromRegistry: (ref, auth) => engine.pullFromRegistry(ref, auth),
    tagImage: (id, repository, tag) => engine.tagImage(id, repository, tag),
    pushImage: (repository, tag, auth) => engine.pushImage(repository, tag, auth),
    ...(engine.bindsWorkspaces ? { bindsWorkspaces: () => engine.bindsWorkspaces!() } : {}),
    createVolume: (volumeLabels) => engine.createVolume({ ...volumeLabels, ...labels }),
    removeVolume: (name) => engine.removeVolume(name),
    createContainer: (spec) =>
      engine.createContainer({ ...spec, labels: { ...spec.labels, ...labels } }),
    putArchive: (id, path, tar) => engine.putArchive(id, path, tar),
    readFile: (id, path) => engine.readFile(id, path),
    run: (id, onOutput, stdin) => engine.run(id, onOutput, stdin),
    killContainer: (id) => engine.killContainer(id),
    removeContainer: (id) => engine.removeContainer(id),
    commitContainer: (id, repository, tag, imageLabels) =>
      engine.commitContainer(id, repository, tag, imageLabels),
    findImages: (imageLabels) => engine.findImages(imageLabels),
    removeImage: (id) => engine.removeImage(id),
    listContainers: (containerLabels) => engine.listContainers(containerLabels),
    ...(engine.listVolumes
      ? { listVolumes: (volumeLabels) => engine.listVolumes!(volumeLabels) }
      : {}),
  };
}

/**
 * Removes the containers (and their volumes) a previous life of this runner left when it
 * was killed mid-job; their jobs are taken over by whichever runner receives them once the
 * lease expires. Returns the job ids they belonged to.
 */
export async function removeLeftoverContainers(
  engine: Engine,
  runnerName: string,
): Promise<string[]> {
  const leftovers = await engine.listContainers({ [RUNNER_LABEL]: runnerName });
  for (const container of leftovers) await engine.removeContainer(container.id);
  // Each step's /kozmic volume (the source, the script) goes with its container.
  const volumes = (await engine.listVolumes?.({ [RUNNER_LABEL]: runnerName })) ?? [];
  for (const volume of volumes) await engine.removeVolume(volume);
  return [...new Set(leftovers.map((c) => c.labels["kozmic.job"] ?? "?"))];
}
