#!/usr/bin/env bash
# The compiled `kozmic` CLI as Node.js 24 can run it, for the benchmarks' Node 24 rounds:
# a copy of bin/ and dist/cli/ beside a better-sqlite3 built for Node 24. node_modules holds
# better-sqlite3's binary for the machine's Node only (another ABI), and the bundle finds
# better-sqlite3 by walking up from its own directory, hence the copy.
# better-sqlite3 is built once per machine and version pair (about a minute, with the
# node-gyp and headers that come with scripts/node24.sh's Node) and reused; the copy of the
# CLI is made afresh each time. Run `npm run build` first.
# Prints two lines: the node binary, then the copy's bin/kozmic.js.
set -euo pipefail
cd "$(dirname "$0")/.."

node24="$(bash scripts/node24.sh)"
wheel="$(dirname "$(dirname "$node24")")"
sqlite_version="$(node -p 'require("./node_modules/better-sqlite3/package.json").version')"
cache=/var/cache/kozmic-build
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache="$PWD/.services"; fi
addon_dir="$cache/better-sqlite3-$sqlite_version-node-$("$node24" -p process.versions.node)"
if [ ! -f "$addon_dir/build/Release/better_sqlite3.node" ]; then
  echo "kozmic: building better-sqlite3 $sqlite_version for Node 24, once per machine" >&2
  tmp="$addon_dir.tmp.$$"
  rm -rf "$tmp"
  cp -r node_modules/better-sqlite3 "$tmp"
  rm -rf "$tmp/build"
  (cd "$tmp" && PATH="$(dirname "$node24"):$PATH" "$node24" \
    "$wheel/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
    rebuild --release --nodedir="$wheel" -j 2 >&2)
  rm -rf "$addon_dir"
  mv "$tmp" "$addon_dir"
fi

cli="$cache/kozmic-cli-node24"
rm -rf "$cli"
mkdir -p "$cli/dist" "$cli/node_modules"
cp -r bin package.json "$cli/"
cp -r dist/cli "$cli/dist/cli"
ln -s "$addon_dir" "$cli/node_modules/better-sqlite3"
# better-sqlite3's own lookup of its binary, when it is not handed the path.
for dep in bindings file-uri-to-path; do ln -s "$PWD/node_modules/$dep" "$cli/node_modules/$dep"; done
"$node24" "$cli/bin/kozmic.js" --version >/dev/null
echo "$node24"
echo "$cli/bin/kozmic.js"
