import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DEBIAN_SUDO_IMAGE = "kozmic-test/debian-sudo:bookworm";

const CACHE_DIR = "/var/cache/kozmic-test";
const TARBALL = join(CACHE_DIR, "debian-sudo-bookworm-debs.tar");
const BUILD_LOG = join(CACHE_DIR, "debian-sudo-bookworm.log");
const LOCK = join(CACHE_DIR, "debian-sudo-bookworm.lock");
// What the image needs (a shell, sudo with PAM, shadow's tools, coreutils, procps, netcat)
// plus Debian's required base. apt resolves their dependencies as for an empty system.
const PACKAGES = [
  "base-files",
  "base-passwd",
  "bash",
  "coreutils",
  "dash",
  "debianutils",
  "diffutils",
  "dpkg",
  "findutils",
  "grep",
  "gzip",
  "hostname",
  "libc-bin",
  "libpam-modules",
  "libpam-runtime",
  "login",
  "mawk",
  "ncurses-base",
  "netcat-openbsd",
  "passwd",
  "procps",
  "sed",
  "sudo",
  "tar",
  "usr-is-merged",
  "util-linux",
];

// Runs under flock with $1 = tarball, $2 = log, then the packages. Rechecks the tarball because
// another process may have built it while this one waited for the lock.
//
// The root filesystem is made from Debian's own packages, unpacked with dpkg-deb into a merged-/usr
// tree, then configured as their maintainer scripts would (passwd and group from base-passwd,
// shadow files, the PAM stacks pam-auth-update writes, ld.so.cache, dpkg's status). debootstrap
// would run every maintainer script in a chroot: 20 minutes on a slow CI machine against one or
// two for this, and sudo, PAM and the users behave the same.
const BUILD_ROOTFS = `
set -eu
tarball=$1 log=$2
shift 2
[ -f "$tarball" ] && exit 0
work=$(mktemp -d /var/tmp/kozmic-debian-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
exec >"$log" 2>&1
set -x
apt_get() {
  apt-get -q -o Dir::State::status="$work/status" -o Dir::Cache::archives="$work/debs" \\
    -o APT::Install-Recommends=false -o Debug::NoLocking=true "$@"
}
mkdir -p "$work/debs/partial" "$work/root/usr/bin" "$work/root/usr/sbin" "$work/root/usr/lib" "$work/root/usr/lib64"
: >"$work/status"
apt_get --download-only -y install "$@" || { apt-get -q update && apt_get --download-only -y install "$@"; }
root=$work/root
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
mkdir -p "$root/var/lib/dpkg/info"
for deb in "$work"/debs/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$root"
  { dpkg-deb -f "$deb" Package Version Architecture Multi-Arch Maintainer Depends Pre-Depends Description
    echo "Status: install ok installed"; echo; } >>"$root/var/lib/dpkg/status"
  name=$(dpkg-deb -f "$deb" Package)
  [ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && name="$name:$(dpkg-deb -f "$deb" Architecture)"
  dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\\.||' -e 's|/$||' -e 's|^$|/.|' >"$root/var/lib/dpkg/info/$name.list"
done
: >"$root/var/lib/dpkg/available"
# Made by base-files' maintainer script.
mkdir -p "$root"/usr/local/bin "$root"/usr/local/etc "$root"/usr/local/games "$root"/usr/local/include \\
  "$root"/usr/local/lib "$root"/usr/local/sbin "$root"/usr/local/share "$root"/usr/local/src
cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
pam=$root/etc/pam.d
printf 'auth\\t[success=1 default=ignore]\\tpam_unix.so nullok\\nauth\\trequisite\\tpam_deny.so\\nauth\\trequired\\tpam_permit.so\\n' >"$pam/common-auth"
printf 'account\\t[success=1 new_authtok_reqd=done default=ignore]\\tpam_unix.so\\naccount\\trequisite\\tpam_deny.so\\naccount\\trequired\\tpam_permit.so\\n' >"$pam/common-account"
printf 'password\\t[success=1 default=ignore]\\tpam_unix.so obscure yescrypt\\npassword\\trequisite\\tpam_deny.so\\npassword\\trequired\\tpam_permit.so\\n' >"$pam/common-password"
printf 'session\\t[default=1]\\tpam_permit.so\\nsession\\trequisite\\tpam_deny.so\\nsession\\trequired\\tpam_permit.so\\nsession\\trequired\\tpam_unix.so\\n' >"$pam/common-session"
cp "$pam/common-session" "$pam/common-session-noninteractive"
# Links update-alternatives and dash's scripts would make.
ln -sf mawk "$root/usr/bin/awk"
ln -sf nc.openbsd "$root/usr/bin/nc"
[ -e "$root/usr/bin/sh" ] || ln -s dash "$root/usr/bin/sh"
chroot "$root" /sbin/ldconfig
chroot "$root" pwconv
chroot "$root" grpconv
chroot "$root" groupadd -g 1000 kozmic
chroot "$root" useradd -m -u 1000 -g 1000 -d /home/kozmic -s /bin/bash kozmic
chroot "$root" groupadd -g 1001 builder
chroot "$root" useradd -m -u 1001 -g 1001 -d /home/builder -s /bin/bash builder
echo 'kozmic ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/kozmic"
chmod 0440 "$root/etc/sudoers.d/kozmic"
chroot "$root" visudo -cf /etc/sudoers.d/kozmic
tar --numeric-owner -C "$root" -cf "$tarball.tmp.$$" .
mv -f "$tarball.tmp.$$" "$tarball"
`;

const IMPORT = `docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || { docker import --change 'CMD ["/bin/bash"]' "$2" "$1" >/dev/null && docker image inspect -f '{{.Id}}' "$1"; }`;

/**
 * A Debian bookworm image made from Debian's packages, with a `kozmic` user (uid 1000) who has
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
  try {
    execFileSync("flock", [LOCK, "sh", "-c", BUILD_ROOTFS, "sh", TARBALL, BUILD_LOG, ...PACKAGES], {
      stdio: "ignore",
    });
  } catch {
    throw new Error(
      `building the Debian bookworm root filesystem from Debian's packages failed; ` +
        `last lines of ${BUILD_LOG}:\n${logTail(BUILD_LOG)}`,
    );
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

function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
