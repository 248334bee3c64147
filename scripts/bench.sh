#!/usr/bin/env bash
# Benchmarks (never part of the tests). Needs a running Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
for file in bench/*.bench.ts; do
  echo "== $file"
  node --import tsx "$file"
done
