import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** The user and password a registry started with `htpasswd: true` accepts. */
export const REGISTRY_USER = "kozmic";
export const REGISTRY_PASSWORD = "fleet-cache-test";
// bcrypt of REGISTRY_PASSWORD (cost 5): the registry's htpasswd file accepts bcrypt only.
const HTPASSWD = `${REGISTRY_USER}:$2b$05$a9M5GQ1na8XsvHfc3rnKU.uXUfOFhwyb9i/3sQjCVAttTG6In5N.K\n`;

export interface TestRegistry {
  /** `127.0.0.1:<port>`: Docker trusts 127.0.0.0/8 over plain HTTP. */
  host: string;
  /** Where the registry keeps its blobs and manifests. */
  storageDir: string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (the reference implementation of the Registry HTTP API v2) on a
 * free 127.0.0.1 port with a temporary storage directory; `htpasswd` makes it require
 * REGISTRY_USER / REGISTRY_PASSWORD.
 */
export async function startRegistry(options: { htpasswd?: boolean } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "kozmic-registry-"));
  const storageDir = join(dir, "storage");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: kozmic-test\n    path: ${join(dir, "htpasswd")}\n`
    : "";
  if (options.htpasswd) writeFileSync(join(dir, "htpasswd"), HTPASSWD);
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${storageDir}\n` +
      `  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${auth}`,
  );
  const logPath = join(dir, "registry.log");
  const log = openSync(logPath, "a");
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  const stop = async () => {
    process.removeListener("exit", onExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = readFileSync(logPath, "utf8");
      await stop();
      throw new Error(`docker-registry exited (${child.exitCode}):\n${text}`);
    }
    const answer = await fetch(`http://${host}/v2/`).catch(() => undefined);
    if (answer) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${host} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, storageDir, stop };
}

/** Deletes `repository:tag`'s manifest from the registry, as a lifecycle rule would. */
export async function deleteFromRegistry(
  registry: TestRegistry,
  repository: string,
  tag: string,
  auth?: { username: string; password: string },
): Promise<void> {
  const headers: Record<string, string> = {
    Accept: "application/vnd.docker.distribution.manifest.v2+json",
    ...(auth
      ? {
          Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`,
        }
      : {}),
  };
  const base = `http://${registry.host}/v2/${repository}/manifests`;
  const head = await fetch(`${base}/${tag}`, { method: "HEAD", headers });
  const digest = head.headers.get("docker-content-digest");
  if (!head.ok || !digest)
    throw new Error(`no ${repository}:${tag} in the registry (${head.status})`);
  const deleted = await fetch(`${base}/${digest}`, { method: "DELETE", headers });
  if (deleted.status !== 202)
    throw new Error(`cannot delete ${repository}:${tag}: ${deleted.status}`);
}
