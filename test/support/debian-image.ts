import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export const DEBIAN_SUDO_IMAGE = "kozmic-test/debian-sudo:bookworm";

const CACHE_DIR = "/var/cache/kozmic-test";
const TARBALL = join(CACHE_DIR, "debian-sudo-bookworm.tar");
const BUILD_LOG = join(CACHE_DIR, "debian-sudo-bookworm.log");
const LOCK = join(CACHE_DIR, "debian-sudo-bookworm.lock");
const FALLBACK_MIRROR = "http://deb.debian.org/debian";
const PACKAGES = "sudo,netcat-openbsd,procps,ca-certificates";

// Runs under flock with $1 = tarball, $2 = mirror, $3 = log. Rechecks the tarball because
// another process may have built it while this one waited for the lock.
const BUILD_ROOTFS = `
set -eu
tarball=$1 mirror=$2 log=$3
[ -f "$tarball" ] && exit 0
root=$(mktemp -d /var/tmp/kozmic-debian-rootfs.XXXXXX)
cleanup() {
  # A failed debootstrap can leave proc/sys mounted inside the target.
  for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
exec >"$log" 2>&1
debootstrap --variant=minbase --include=${PACKAGES} bookworm "$root" "$mirror"
chroot "$root" groupadd -g 1000 kozmic
chroot "$root" useradd -m -u 1000 -g 1000 -d /home/kozmic -s /bin/bash kozmic
chroot "$root" groupadd -g 1001 builder
chroot "$root" useradd -m -u 1001 -g 1001 -d /home/builder -s /bin/bash builder
echo 'kozmic ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/kozmic"
chmod 0440 "$root/etc/sudoers.d/kozmic"
chroot "$root" visudo -cf /etc/sudoers.d/kozmic
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
# Docker provides /dev, /proc and /sys itself.
tar --numeric-owner -C "$root" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \\
  -cf "$tarball.tmp.$$" .
mv -f "$tarball.tmp.$$" "$tarball"
`;

const IMPORT = `docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || { docker import --change 'CMD ["/bin/bash"]' "$2" "$1" >/dev/null && docker image inspect -f '{{.Id}}' "$1"; }`;

/**
 * A Debian bookworm image made with debootstrap, with a `kozmic` user (uid 1000) who has
 * passwordless sudo and a `builder` user (uid 1001) who has none. The rootfs is built once
 * per machine and kept as a tarball in /var/cache/kozmic-test; each engine (`dockerHost`)
 * imports it once. Serialised with flock so parallel test processes build it only once.
 */
export function ensureDebianSudoImage(options: { dockerHost?: string } = {}): string {
  const env = dockerEnv(options.dockerHost);
  const existing = imageId(env);
  if (existing) return existing;
  mkdirSync(CACHE_DIR, { recursive: true });
  if (!existsSync(TARBALL)) buildRootfsTarball();
  return execFileSync("flock", [LOCK, "sh", "-c", IMPORT, "sh", DEBIAN_SUDO_IMAGE, TARBALL], {
    encoding: "utf8",
    env,
  }).trim();
}

/** The Debian mirror this machine's apt uses, for debootstrap. */
export function configuredDebianMirror(): string {
  for (const text of aptSources(".list")) {
    const match = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+bookworm\s/m.exec(text);
    if (match) return match[1]!;
  }
  for (const text of aptSources(".sources"))
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (key: string) =>
        new RegExp(`^${key}:\\s*(.*)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      const uri = field("URIs").find((u) => /^https?:\/\//.test(u));
      const enabled = field("Enabled")[0] !== "no";
      if (uri && enabled && field("Types").includes("deb") && field("Suites").includes("bookworm"))
        return uri;
    }
  return FALLBACK_MIRROR;
}

/**
 * A small `.deb` (version 1.0, arch all) installing an executable `/usr/local/bin/<name>`
 * that prints `<name> works`. Returns the path of the .deb, in `dir`.
 */
export function buildDebFixture(dir: string, name: string): string {
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw new Error(`not a Debian package name: ${name}`);
  const root = join(dir, `${name}-pkg`);
  mkdirSync(join(root, "DEBIAN"), { recursive: true });
  mkdirSync(join(root, "usr/local/bin"), { recursive: true });
  writeFileSync(
    join(root, "DEBIAN/control"),
    [
      `Package: ${name}`,
      "Version: 1.0",
      "Architecture: all",
      "Maintainer: Kozmic tests <tests@kozmic.invalid>",
      `Description: ${name}, a Kozmic test fixture`,
      "",
    ].join("\n"),
  );
  const bin = join(root, "usr/local/bin", name);
  writeFileSync(bin, `#!/bin/sh\necho "${name} works"\n`);
  chmodSync(bin, 0o755);
  const deb = join(dir, `${name}_1.0_all.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", root, deb], { stdio: "ignore" });
  return deb;
}

function buildRootfsTarball(): void {
  ensureDebootstrap();
  const mirror = configuredDebianMirror();
  try {
    execFileSync("flock", [LOCK, "sh", "-c", BUILD_ROOTFS, "sh", TARBALL, mirror, BUILD_LOG], {
      stdio: "ignore",
    });
  } catch {
    throw new Error(
      `building the Debian bookworm rootfs with debootstrap (mirror ${mirror}) failed; ` +
        `last lines of ${BUILD_LOG}:\n${logTail(BUILD_LOG)}`,
    );
  }
}

function ensureDebootstrap(): void {
  if (commandExists("debootstrap")) return;
  // Waits for a dpkg lock held by another install (e.g. scripts/bootstrap.sh) instead of failing.
  const install = [
    "-o",
    "DPkg::Lock::Timeout=600",
    "install",
    "-y",
    "-qq",
    "--no-install-recommends",
    "debootstrap",
  ];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", install, { stdio: "ignore", env });
  } catch {
    execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=600", "update", "-qq"], { env });
    execFileSync("apt-get", install, { stdio: "ignore", env });
  }
}

function imageId(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", DEBIAN_SUDO_IMAGE], {
      encoding: "utf8",
      env,
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

function dockerEnv(dockerHost: string | undefined): NodeJS.ProcessEnv {
  return dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
}

function aptSources(extension: ".list" | ".sources"): string[] {
  const dir = "/etc/apt/sources.list.d";
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(extension))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (extension === ".list") files.unshift("/etc/apt/sources.list");
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8"));
}

function commandExists(command: string): boolean {
  try {
    execFileSync("sh", ["-c", 'command -v "$1"', "sh", command], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
