#!/usr/bin/env bash
# Bundles the CLI into dist/cli/ (scripts/bundle-cli.ts, the log pages' stylesheet and script
# inside), which is what bin/kozmic.js runs. Type-checking is `tsc --noEmit` (npm test, npm
# run check). Quick when dist/ is newer than every source.
#   --check   only say whether dist/ is up to date (exit 1 when it is not)
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=dist/.built
stale_reason() {
  if [ ! -f "$stamp" ]; then
    echo "dist/ has not been built"
    return
  fi
  local newer
  newer=$(find src runner scripts/bundle-cli.ts scripts/bundle-lambda.ts tsconfig.json \
    package.json package-lock.json -newer "$stamp" -print -quit)
  if [ -n "$newer" ]; then echo "$newer is newer than dist/"; fi
}

reason=$(stale_reason)
if [ "${1:-}" = --check ]; then
  if [ -n "$reason" ]; then
    echo "$reason"
    exit 1
  fi
  exit 0
fi
if [ -z "$reason" ]; then
  echo "build: dist/ is up to date"
  exit 0
fi
echo "build: $reason; bundling the CLI into dist/cli/"
# The stamp's time is the start: a source saved during the build makes the next one compile.
mkdir -p dist
touch "$stamp.new.$$"
# Made aside and swapped in, so that a kozmic already running keeps its files.
npx tsx scripts/bundle-cli.ts "dist/cli.new.$$"
if [ -d dist/cli ]; then mv dist/cli "dist/cli.old.$$"; fi
mv "dist/cli.new.$$" dist/cli
rm -rf "dist/cli.old.$$"
mv -f "$stamp.new.$$" "$stamp"
