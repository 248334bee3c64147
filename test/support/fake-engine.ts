import { randomUUID } from "node:crypto";
import { InfrastructureError } from "../../src/core/errors.js";
import type {
  ContainerInfo,
  Engine,
  ImageInfo,
  NetworkSpec,
  ServiceSpec,
  StepSpec,
} from "../../runner/engine/port.js";

interface FakeService {
  spec: ServiceSpec;
  state: "running" | "exited";
  checks: number;
}

interface FakeContainer {
  spec: StepSpec;
  state: "created" | "running" | "exited";
  end?: (how: "killed" | "vanished") => void;
}

/**
 * A scripted engine for testing pipeline logic without Docker. A step's behaviour comes
 * from its env: FAKE_OUTPUT (printed), FAKE_SLEEP_MS (then exits), FAKE_EXIT (exit code),
 * FAKE_START_FAIL (start throws an InfrastructureError), FAKE_STEP_FILE (see readStepFile). Killing ends a step with 137;
 * vanish(id) removes it under the pipeline, as another process might. A service prints
 * FAKE_OUTPUT, stops at once with FAKE_EXIT, and fails FAKE_UNHEALTHY checks ("always": all,
 * "hang": each check never ends);
 * a passing check prints the command's last word, or exits N for `exit N`.
 */
export class FakeEngine implements Engine {
  readonly images = new Map<string, ImageInfo>();
  readonly containers = new Map<string, FakeContainer>();
  readonly calls: string[] = [];
  /** Docker's own networks; a test removes `bridge` for an engine run with --bridge=none. */
  readonly networks = new Set(["bridge", "host", "none"]);
  /** Networks created through the port, by name: their labels. */
  readonly jobNetworks = new Map<string, NetworkSpec>();
  readonly services = new Map<string, FakeService>();

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

  /** False while a test has the engine "down". */
  up = true;

  ping(): Promise<void> {
    return this.up
      ? Promise.resolve()
      : Promise.reject(new InfrastructureError("the fake engine is down"));
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
  /** Packs the step's files as an upload would, so packing errors surface here. */
  async createStep(spec: StepSpec): Promise<string> {
    const { packStepFiles } = await import("../../runner/source/tar-directory.js");
    const tar = await packStepFiles(spec.files);
    await new Promise<void>((resolve, reject) => {
      tar.on("error", reject);
      tar.on("end", () => resolve());
      tar.resume();
    });
    const id = randomUUID();
    this.containers.set(id, { spec, state: "created" });
    return id;
  }
  async runStep(id: string, onOutput: (text: string) => void): Promise<number> {
    const c = this.containers.get(id);
    if (!c) throw new InfrastructureError(`no such step ${id}`);
    const env = c.spec.env;
    if (env.FAKE_START_FAIL) throw new InfrastructureError("fake start failure");
    c.state = "running";
    this.calls.push(`run ${c.spec.image}`);
    const ending = new Promise<"exited" | "killed" | "vanished">((resolve) => {
      const timer = setTimeout(() => resolve("exited"), Number(env.FAKE_SLEEP_MS ?? 0));
      c.end = (how) => {
        clearTimeout(timer);
        resolve(how);
      };
    });
    if (env.FAKE_OUTPUT) onOutput(`${env.FAKE_OUTPUT}\n`);
    const ended = await ending;
    c.state = "exited";
    if (ended === "vanished") throw new InfrastructureError(`step ${id} was removed while it ran`);
    return ended === "killed" ? 137 : Number(env.FAKE_EXIT ?? 0);
  }
  killStep(id: string): Promise<void> {
    this.containers.get(id)?.end?.("killed");
    return Promise.resolve();
  }
  /** Removes a step's container behind the pipeline's back, as another process might. */
  vanish(id: string): void {
    this.containers.get(id)?.end?.("vanished");
    this.containers.delete(id);
  }
  /** /etc/passwd is root's; another file is the step's env FAKE_STEP_FILE, `path=content`. */
  readStepFile(id: string, path: string, maxBytes = Infinity): Promise<string | undefined> {
    if (path === "/etc/passwd") return Promise.resolve("root:x:0:0::/root:/bin/sh\n");
    const file = this.containers.get(id)?.spec.env.FAKE_STEP_FILE ?? "";
    const content = file.startsWith(`${path}=`) ? file.slice(path.length + 1) : undefined;
    return Promise.resolve(
      content !== undefined && content.length <= maxBytes ? content : undefined,
    );
  }
  /** The step's /kozmic/src is its source directory here: what a test put there. */
  async readStepSource(id: string, path: string): Promise<NodeJS.ReadableStream | undefined> {
    const c = this.containers.get(id);
    if (!c) throw new InfrastructureError(`no such step ${id}`);
    const { lstat } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const parts = path.split("/").filter((part) => part !== "" && part !== ".");
    if (parts.includes("..")) return undefined;
    const root = c.spec.files.sourceDir;
    for (let i = 0; i < parts.length; i++) {
      const dir = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
      if (!dir?.isDirectory()) return undefined;
    }
    const target = join(root, ...parts);
    if (!(await lstat(target).catch(() => undefined))) return undefined;
    const { readdir, readFile, readlink } = await import("node:fs/promises");
    const { pack } = await import("tar-stream");
    const tar = pack();
    const add = (header: Parameters<typeof tar.entry>[0], body: Buffer | string = "") =>
      new Promise<void>((resolve, reject) =>
        tar.entry(header, body, (err) => (err ? reject(err) : resolve())),
      );
    // As Docker names entries: from the last component ("src" for the whole source).
    const walk = async (full: string, name: string): Promise<void> => {
      const stats = await lstat(full);
      if (stats.isSymbolicLink())
        await add({ name, type: "symlink", linkname: await readlink(full) });
      else if (stats.isFile()) await add({ name }, await readFile(full));
      else if (stats.isDirectory()) {
        await add({ name, type: "directory" });
        for (const entry of (await readdir(full)).sort())
          await walk(join(full, entry), `${name}/${entry}`);
      }
    };
    void walk(target, parts.at(-1) ?? "src").then(
      () => tar.finalize(),
      (error: unknown) => tar.destroy(error as Error),
    );
    const { Readable } = await import("node:stream");
    return Readable.from(tar);
  }
  readImageFile(): Promise<string | undefined> {
    return Promise.resolve("root:x:0:0::/root:/bin/sh\n");
  }
  commitStep(
    id: string,
    repository: string,
    tag: string,
    labels: Record<string, string>,
  ): Promise<string> {
    if (!this.containers.has(id)) return Promise.reject(new Error(`no such step ${id}`));
    return Promise.resolve(this.addImage(`${repository}:${tag}`, labels).id);
  }
  destroyStep(id: string): Promise<void> {
    this.containers.get(id)?.end?.("killed");
    this.containers.delete(id);
    return Promise.resolve();
  }
  hasNetwork(name: string): Promise<boolean> {
    return Promise.resolve(this.networks.has(name));
  }
  createNetwork(spec: NetworkSpec): Promise<void> {
    if (this.networks.has(spec.name))
      return Promise.reject(new InfrastructureError(`network ${spec.name} already exists`));
    this.networks.add(spec.name);
    this.jobNetworks.set(spec.name, spec);
    return Promise.resolve();
  }
  removeNetwork(name: string): Promise<void> {
    if ([...this.services.values()].some((s) => s.spec.network === name))
      return Promise.reject(new Error(`network ${name} has active endpoints`));
    if (this.jobNetworks.delete(name)) this.networks.delete(name);
    return Promise.resolve();
  }
  listNetworks(labels: Record<string, string>): Promise<string[]> {
    return Promise.resolve(
      [...this.jobNetworks.values()].filter((n) => matches(n.labels, labels)).map((n) => n.name),
    );
  }
  startService(spec: ServiceSpec, onOutput: (text: string) => void): Promise<string> {
    if (!this.networks.has(spec.network))
      return Promise.reject(new InfrastructureError(`no such network ${spec.network}`));
    const known = [spec.image, `${spec.image}:latest`].some((ref) => this.images.has(ref));
    if (!known && ![...this.images.values()].some((i) => i.id === spec.image))
      return Promise.reject(new InfrastructureError(`no such image ${spec.image}`));
    const id = randomUUID();
    const exited = spec.env.FAKE_EXIT !== undefined;
    this.services.set(id, { spec, state: exited ? "exited" : "running", checks: 0 });
    this.calls.push(`service ${spec.alias}`);
    if (spec.env.FAKE_OUTPUT) onOutput(`${spec.env.FAKE_OUTPUT}\n`);
    return Promise.resolve(id);
  }
  execInService(
    id: string,
    command: string[],
    maxBytes: number,
  ): Promise<{ exitCode: number; output: string } | undefined> {
    const service = this.services.get(id);
    if (service?.state !== "running") return Promise.resolve(undefined);
    service.checks += 1;
    const unhealthy = service.spec.env.FAKE_UNHEALTHY ?? "0";
    if (unhealthy === "hang") return new Promise(() => {});
    if (unhealthy === "always" || service.checks <= Number(unhealthy)) {
      const output = `${command.join(" ")}: not ready (check ${service.checks})\n`;
      return Promise.resolve({ exitCode: 1, output: output.slice(-maxBytes) });
    }
    // A check prints its last word, or exits with N when that is `exit N`.
    const word = command.at(-1) ?? "";
    const exit = /^exit (\d+)$/.exec(word);
    return Promise.resolve(
      exit ? { exitCode: Number(exit[1]), output: "" } : { exitCode: 0, output: `${word}\n` },
    );
  }
  removeService(id: string): Promise<void> {
    this.services.delete(id);
    return Promise.resolve();
  }
  async removeLabelled(labels: Record<string, string>): Promise<void> {
    for (const c of await this.listContainers(labels)) {
      await this.destroyStep(c.id);
      await this.removeService(c.id);
    }
    for (const name of await this.listNetworks(labels)) await this.removeNetwork(name);
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
      [...this.containers.entries(), ...this.services.entries()]
        .filter(([, c]) => matches(c.spec.labels, labels))
        .map(([id, c]) => ({ id, imageId: c.spec.image, state: c.state, labels: c.spec.labels })),
    );
  }
}

function matches(have: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([k, v]) => have[k] === v);
}
