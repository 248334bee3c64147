#!/bin/sh
# Builds the stand-in image's root filesystem as a tarball: a minimal Debian trixie root made from
# Debian's packages (unpacked with dpkg-deb, as in debian-image.ts), imported into the engine at
# DOCKER_HOST, where a container running install.sh installs the toolchains with apt (their
# maintainer scripts run there); the container is then exported.
# Usage: STAND_IN_PACKAGES="toolchain packages" build.sh TARBALL LOG CA_BUNDLE INSTALL_SH BASE_PACKAGE...
# Run under flock; rechecks the tarball because another process may have built it meanwhile.
set -eu
tarball=$1 log=$2 cafile=$3 install=$4
shift 4
[ -f "$tarball" ] && exit 0
work=$(mktemp -d /var/tmp/kozmic-stand-in.XXXXXX)
base=kozmic-test/stand-in-base:build-$$
container=kozmic-standin-build-$$
cleanup() {
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker rmi "$base" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work" "$tarball.tmp.$$"
}
trap cleanup EXIT
exec >"$log" 2>&1
set -x
arch=$(dpkg --print-architecture)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
root=$work/root
mkdir -p "$work/apt/lists/partial" "$work/apt/cache" "$work/apt/parts" "$work/debs/partial" \
  "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64"
# The Debian mirror the host's apt uses, for trixie.
uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -oE 'https?://[^ ]*/debian(-security)?/?( |$)' | tr -d ' ' | sed 's|/$||' || true)
mirror=$(printf '%s\n' "$uris" | grep -E '/debian$' | head -1)
security=$(printf '%s\n' "$uris" | grep -E '/debian-security$' | head -1)
[ -n "$mirror" ] || { echo "stand-in: no Debian mirror in the host's apt sources" >&2; exit 1; }
[ -n "$security" ] || security="${mirror}-security"
{
  echo "deb [signed-by=$keyring] $mirror trixie main"
  echo "deb [signed-by=$keyring] $mirror trixie-updates main"
  echo "deb [signed-by=$keyring] $security trixie-security main"
} >"$work/apt/sources.list"
: >"$work/status"
# The host's apt, with its own lists and state, so the host's sources and status are left alone.
apt_get() {
  apt-get -q -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts="$work/apt/parts" \
    -o Dir::Etc::PreferencesParts="$work/apt/parts" -o Dir::State::Lists="$work/apt/lists" \
    -o Dir::State::status="$work/status" -o Dir::Cache="$work/apt/cache" -o Dir::Cache::archives="$work/debs" \
    -o APT::Architecture="$arch" -o APT::Architectures="$arch" -o Acquire::Languages=none \
    -o APT::Install-Recommends=false -o Debug::NoLocking=true "$@"
}
apt_get update
apt_get --download-only -y install "$@"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
mkdir -p "$root/var/lib/dpkg/info"
for deb in "$work"/debs/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$root"
  # All control fields: apt tells versions apart by a hash of some of them, and would otherwise
  # take these for different builds of the same version and reinstall them.
  { dpkg-deb -f "$deb" | sed '1a Status: install ok installed'; echo; } >>"$root/var/lib/dpkg/status"
  name=$(dpkg-deb -f "$deb" Package)
  [ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && name="$name:$(dpkg-deb -f "$deb" Architecture)"
  dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\.||' -e 's|/$||' -e 's|^$|/.|' >"$root/var/lib/dpkg/info/$name.list"
done
: >"$root/var/lib/dpkg/available"
# What the base packages' maintainer scripts would have done.
mkdir -p "$root"/usr/local/bin "$root"/usr/local/etc "$root"/usr/local/games "$root"/usr/local/include \
  "$root"/usr/local/lib "$root"/usr/local/sbin "$root"/usr/local/share "$root"/usr/local/src
cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
cp "$root/usr/share/base-files/dot.profile" "$root/root/.profile"
cp "$root/usr/share/base-files/dot.bashrc" "$root/root/.bashrc"
[ -e "$root/usr/bin/sh" ] || ln -s dash "$root/usr/bin/sh"
printf '%s\n' 'Types: deb' "URIs: $mirror" 'Suites: trixie trixie-updates' 'Components: main' \
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp' '' 'Types: deb' "URIs: $security" \
  'Suites: trixie-security' 'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp' \
  >"$root/etc/apt/sources.list.d/debian.sources"
chroot "$root" /sbin/ldconfig
chroot "$root" pwconv
chroot "$root" grpconv
tar --numeric-owner -C "$root" -c . | docker import - "$base"
rm -rf --one-file-system "$root"
mkdir "$work/ctx"
cp "$install" "$work/ctx/install.sh"
printf '%s\n' "$STAND_IN_PACKAGES" >"$work/ctx/packages"
if [ -s "$cafile" ]; then cp "$cafile" "$work/ctx/host-ca.crt"; else : >"$work/ctx/host-ca.crt"; fi
docker create --name "$container" --network host "$base" sh /kozmic-build/install.sh
docker cp "$work/ctx" "$container:/kozmic-build"
docker start -a "$container"
[ "$(docker inspect -f "{{.State.ExitCode}}" "$container")" = 0 ]
docker export -o "$tarball.tmp.$$" "$container"
mv -f "$tarball.tmp.$$" "$tarball"
for old in "${tarball%-*}"-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
