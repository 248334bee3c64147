#!/usr/bin/env bash
# Benchmarks (never part of the tests). Needs a running Docker engine; starts ElasticMQ and
# DynamoDB Local so the queue/store figures cover the AWS adapters too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh # the benchmarks run the compiled CLI
# shellcheck source=/dev/null
source test/support/services.sh
start_services
trap stop_services EXIT
for file in bench/*.bench.ts; do
  echo "== $file"
  node --import tsx "$file"
done
