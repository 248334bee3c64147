import type { Engine } from "../engine/port.js";

export const RUNNER_LABEL = "kozmic.runner";

/** The engine with `kozmic.runner=<name>` on every container and volume it creates. */
export function labelEngine(engine: Engine, runnerName: string): Engine {
  const labels = { [RUNNER_LABEL]: runnerName };
  const overrides: Partial<Engine> = {
    createStep: (spec) => engine.createStep({ ...spec, labels: { ...spec.labels, ...labels } }),
    readImageFile: (image, path, fileLabels) =>
      engine.readImageFile(image, path, { ...fileLabels, ...labels }),
  };
  return new Proxy(engine, {
    get(target, property) {
      const own = overrides[property as keyof Engine];
      if (own) return own;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
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
  await engine.removeLabelled({ [RUNNER_LABEL]: runnerName });
  return [...new Set(leftovers.map((c) => c.labels["kozmic.job"] ?? "?"))];
}
