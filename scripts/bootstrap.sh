#!/usr/bin/env bash
# Brings a fresh Debian machine to where Kozmic runs and its tests pass:
# Debian packages, npm packages, and a running Docker engine. Safe to run again; quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
# Test images are made from a static busybox (no registry can be reached).
dpkg -s busybox-static >/dev/null 2>&1 || need_apt+=(busybox-static)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # log pages' browser tests
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry) # fleet cache tests: the reference registry
# pip fetches Node 24 (scripts/node24.sh) for the tests that also run on it.
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
# cfn-lint (PyPI) checks the CDK stack's template (test/infra/cdk-synth.test.ts).
if ! command -v cfn-lint >/dev/null 2>&1 && ! command -v pip3 >/dev/null 2>&1; then
  need_apt+=(python3-pip)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "kozmic bootstrap: please install these Debian packages first (as root): ${need_apt[*]}" >&2
    exit 1
  fi
  echo "kozmic bootstrap: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "kozmic bootstrap: installing cfn-lint"
  pip3 install --quiet --break-system-packages cfn-lint
  command -v cfn-lint >/dev/null 2>&1 || {
    echo "kozmic bootstrap: cfn-lint was installed but is not on PATH: add pip's scripts directory to PATH" >&2
    exit 1
  }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "kozmic bootstrap: installing npm packages"
  # better-sqlite3 compiles SQLite from source when its prebuilt binary cannot be
  # downloaded (as here): minutes on a small machine. The binary is kept per version and
  # Node ABI under /var/cache/kozmic-build and reused by the next fresh checkout.
  npm ci --no-audit --no-fund --ignore-scripts
  npm rebuild esbuild >/dev/null
  sqlite_version="$(node -p 'require("./node_modules/better-sqlite3/package.json").version')"
  sqlite_cache="/var/cache/kozmic-build/better-sqlite3-${sqlite_version}-abi$(node -p process.versions.modules)-$(uname -m).node"
  sqlite_binary=node_modules/better-sqlite3/build/Release/better_sqlite3.node
  if [ -f "$sqlite_cache" ]; then
    mkdir -p "$(dirname "$sqlite_binary")"
    cp "$sqlite_cache" "$sqlite_binary"
  else
    echo "kozmic bootstrap: building better-sqlite3 (once per machine)"
    npm rebuild better-sqlite3
    if mkdir -p "$(dirname "$sqlite_cache")" 2>/dev/null; then
      cp "$sqlite_binary" "$sqlite_cache.tmp.$$" && mv -f "$sqlite_cache.tmp.$$" "$sqlite_cache"
    fi
  fi
  node -e 'new (require("better-sqlite3"))(":memory:").close()'
fi

# Node 24 beside the machine's Node: scripts/test.sh runs the unit and Lambda bundle tests
# on it too. Installed once per machine; only checked after that.
bash scripts/node24.sh >/dev/null

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "kozmic bootstrap: the Docker engine is not running and only root can start it here" >&2
    exit 1
  fi
  echo "kozmic bootstrap: starting the Docker engine"
  mkdir -p /var/log
  nohup dockerd --bridge=none --iptables=false >/var/log/kozmic-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "kozmic bootstrap: the Docker engine did not start; see /var/log/kozmic-dockerd.log" >&2
    tail -20 /var/log/kozmic-dockerd.log >&2 || true
    exit 1
  fi
fi
