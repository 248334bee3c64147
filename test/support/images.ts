import { execFileSync } from "node:child_process";
import {
  mkdtempSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
  chmodSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BUSYBOX = "/bin/busybox";

/**
 * Builds a tiny busybox image with `docker import` (no registry is reachable). Idempotent,
 * and serialised with flock so two test processes can call it at once.
 * `withKozmicUser` adds a `kozmic` user (uid 1000) to /etc/passwd; `tools` are shell
 * scripts put in /usr/local/bin, standing in for a language's tools (`pip`, `npm`...).
 */
export function ensureBusyboxImage(name: string, options: RootfsOptions = {}): string {
  const lock = join(tmpdir(), "kozmic-test-images.lock");
  writeFileSync(lock, "", { flag: "a" });
  const script = `docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || { tar -C "$2" -c . | docker import - "$1" >/dev/null && docker image inspect -f '{{.Id}}' "$1"; }`;
  const root = makeRootfs(options);
  try {
    return execFileSync("flock", [lock, "sh", "-c", script, "sh", name, root], {
      encoding: "utf8",
    }).trim();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Builds the image again under the same name, so it gets a new ID. */
export function rebuildBusyboxImage(
  name: string,
  options: { withKozmicUser?: boolean; marker?: string } = {},
): string {
  execFileSync("docker", ["image", "rm", "-f", name], { stdio: "ignore" });
  return ensureBusyboxImage(name, options);
}

export function removeImages(...refs: string[]): void {
  for (const ref of refs) {
    try {
      execFileSync("docker", ["image", "rm", "-f", ref], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}

interface RootfsOptions {
  withKozmicUser?: boolean;
  marker?: string;
  tools?: Record<string, string>;
}

function makeRootfs(options: RootfsOptions): string {
  const root = mkdtempSync(join(tmpdir(), "kozmic-rootfs-"));
  for (const dir of ["bin", "etc", "tmp", "opt", "root", "home/kozmic"])
    mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  // Install scripts of the kozmic-user variant write under /opt.
  chmodSync(join(root, "opt"), 0o1777);
  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  for (const applet of applets)
    if (applet !== "busybox") symlinkSync("busybox", join(root, "bin", applet));
  const passwd = ["root:x:0:0:root:/root:/bin/sh"];
  const group = ["root:x:0:"];
  if (options.withKozmicUser) {
    passwd.push("kozmic:x:1000:1000:kozmic:/home/kozmic:/bin/sh");
    group.push("kozmic:x:1000:");
  }
  writeFileSync(join(root, "etc/passwd"), passwd.join("\n") + "\n");
  writeFileSync(join(root, "etc/group"), group.join("\n") + "\n");
  writeFileSync(join(root, "etc/marker"), options.marker ?? "base\n");
  mkdirSync(join(root, "usr/local/bin"), { recursive: true });
  for (const [tool, script] of Object.entries(options.tools ?? {}))
    writeFileSync(join(root, "usr/local/bin", tool), script, { mode: 0o755 });
  return root;
}
