import { randomUUID } from "node:crypto";
import { InfrastructureError } from "../../src/core/errors.js";
import type { ContainerInfo, ContainerSpec, Engine, ImageInfo } from "./port.js";

interface FakeContainer {
  spec: ContainerSpec;
  state: "created" | "running" | "exited";
  script?: string;
  kill?: () => void;
}

/**
 * A scripted engine for testing pipeline logic without Docker. A step's behaviour comes
 * from its env: FAKE_OUTPUT (printed), FAKE_SLEEP_MS (then exits), FAKE_EXIT (exit code),
 * FAKE_START_FAIL (start throws an InfrastructureError). Killing ends a step with 137.
 */
export class FakeEngine implements Engine {
  readonly images = new Map<string, ImageInfo>();
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Set<string>();
  readonly calls: string[] = [];

  /** Adds an image tagged `ref` (`:latest` when it has no tag), as a pull or build would. */
  addImage(ref: string, labels: Record<string, string> = {}): ImageInfo {
    const tag = ref.lastIndexOf(":") > ref.lastIndexOf("/") ? ref : `${ref}:latest`;
    const info = {
      id: `sha256:${randomUUID().replace(/-/g, "")}`,
      tags: [tag],
      labels,
      size: 1000,
      created: Date.now(),
    };
    this.images.set(tag, info);
    return info;
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return Promise.resolve(
      this.images.get(ref) ?? [...this.images.values()].find((i) => i.id === ref),
    );
  }
  pullImage(ref: string): Promise<void> {
    this.calls.push(`pull ${ref}`);
    return Promise.reject(
      new InfrastructureError(`cannot pull image ${ref}: fake registry is empty`),
    );
  }
  pullFromRegistry(ref: string): Promise<"pulled" | "absent"> {
    this.calls.push(`pull ${ref}`);
    return Promise.resolve("absent");
  }
  tagImage(imageId: string, repository: string, tag: string): Promise<void> {
    const image = [...this.images.values()].find((i) => i.id === imageId);
    if (!image) return Promise.reject(new Error(`no such image ${imageId}`));
    image.tags.push(`${repository}:${tag}`);
    this.images.set(`${repository}:${tag}`, image);
    return Promise.resolve();
  }
  pushImage(repository: string, tag: string): Promise<string> {
    this.calls.push(`push ${repository}:${tag}`);
    return Promise.reject(
      new InfrastructureError(`cannot push ${repository}:${tag}: fake registry`),
    );
  }
  createVolume(): Promise<string> {
    const name = `vol-${randomUUID()}`;
    this.volumes.add(name);
    return Promise.resolve(name);
  }
  removeVolume(name: string): Promise<void> {
    this.volumes.delete(name);
    return Promise.resolve();
  }
  createContainer(spec: ContainerSpec): Promise<string> {
    const id = randomUUID();
    this.containers.set(id, { spec, state: "created" });
    return Promise.resolve(id);
  }
  /** Drains the archive like Docker would, so packing errors surface here. */
  putArchive(_id: string, _path: string, tar: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve, reject) => {
      tar.on("error", reject);
      tar.on("end", resolve);
      tar.resume();
    });
  }
  readFile(): Promise<string | undefined> {
    return Promise.resolve("root:x:0:0::/root:/bin/sh\n");
  }
  async run(containerId: string, onOutput: (text: string) => void): Promise<number> {
    const c = this.containers.get(containerId);
    if (!c) throw new InfrastructureError(`no such container ${containerId}`);
    const env = c.spec.env;
    if (env.FAKE_START_FAIL) throw new InfrastructureError("fake start failure");
    c.state = "running";
    this.calls.push(`run ${c.spec.image}`);
    if (env.FAKE_OUTPUT) onOutput(`${env.FAKE_OUTPUT}\n`);
    const killed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Number(env.FAKE_SLEEP_MS ?? 0));
      c.kill = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    c.state = "exited";
    return killed ? 137 : Number(env.FAKE_EXIT ?? 0);
  }
  killContainer(containerId: string): Promise<void> {
    this.containers.get(containerId)?.kill?.();
    return Promise.resolve();
  }
  removeContainer(containerId: string): Promise<void> {
    this.containers.get(containerId)?.kill?.();
    this.containers.delete(containerId);
    return Promise.resolve();
  }
  commitContainer(
    _id: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string> {
    return Promise.resolve(this.addImage(`${repository}:${tag}`, labels).id);
  }
  findImages(labels: Record<string, string>): Promise<ImageInfo[]> {
    return Promise.resolve(
      [...this.images.values()].filter((i) =>
        Object.entries(labels).every(([k, v]) => i.labels[k] === v),
      ),
    );
  }
  removeImage(id: string): Promise<void> {
    for (const [ref, info] of this.images) if (info.id === id) this.images.delete(ref);
    return Promise.resolve();
  }
  listContainers(labels: Record<string, string>): Promise<ContainerInfo[]> {
    return Promise.resolve(
      [...this.containers.entries()]
        .filter(([, c]) => Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
        .map(([id, c]) => ({ id, imageId: c.spec.image, state: c.state, labels: c.spec.labels })),
    );
  }
}
