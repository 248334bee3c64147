#!/usr/bin/env bash
# The whole test suite: build (the tests run the compiled CLI) and the Lambda bundles,
# type-check, lint, format check, then every test file with the services they need
# (ElasticMQ, DynamoDB Local) started here and stopped after; beside them, the unit tests
# and the Lambda bundle's test again on Node 24 (scripts/node24.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# The stand-in image for the real-project tests is mostly downloads and unpacking: made while
# the build and checks below keep the CPUs busy (a few minutes the first time on a machine).
if [ $# -eq 0 ]; then
  bash scripts/build-test-images.sh --stand-in >test-stand-in.log 2>&1 &
  stand_in_pid=$!
fi

echo "== build, type-check, lint, layers, format"
# Side by side: each is single-threaded and takes minutes on a small CI machine.
bash scripts/build.sh &
build_pid=$!
npm run --silent bundle &
bundle_pid=$!
npx tsc --noEmit &
tsc_pid=$!
npx eslint . &
eslint_pid=$!
# The layer rules (.dependency-cruiser.cjs): imports run from entry points down to src/core.
npx depcruise src runner --config .dependency-cruiser.cjs --output-type err &
layers_pid=$!
checks_ok=true
wait "$build_pid" || checks_ok=false
wait "$bundle_pid" || checks_ok=false
wait "$tsc_pid" || checks_ok=false
wait "$eslint_pid" || checks_ok=false
wait "$layers_pid" || checks_ok=false
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
$checks_ok || { echo "build, bundle, type-check, lint or layer check failed (above)" >&2; exit 1; }

if [ -f test/support/services.sh ]; then
  # shellcheck source=/dev/null
  source test/support/services.sh
  start_services
  trap stop_services EXIT
fi

# Slow fixtures (a Debian image made from Debian's packages) are built once per machine and kept.
bash scripts/build-test-images.sh
if [ -n "${stand_in_pid:-}" ]; then
  wait "$stand_in_pid" || { cat test-stand-in.log; echo "the stand-in image could not be built" >&2; exit 1; }
  cat test-stand-in.log
fi

mkdir -p test-artifacts
# A test file that hangs fails, by name, instead of holding the run until CI gives up on it
# with nothing said: Node's --test-timeout bounds each file (the slowest, the real projects,
# takes about 6 minutes here), also one whose tests are done but which something (a socket,
# a child process) keeps alive. `timeout` bounds the whole run and its processes, should the
# runner itself stop. Not --test-force-exit: on Node 24 it drops a file's last suite unsaid.
node_test=(--import tsx --test --test-timeout=1200000 --test-reporter=spec)
# The slowest files start first, so that two at a time finish close together instead of one
# long file running alone at the end: the real projects' installs and builds (the longest by
# far), the other files running projects on the stand-in image, then the other end-to-end
# files and the pipeline against Docker, then the rest.
mapfile -t files < <(
  find test -name '*.test.ts' | sort |
    awk '{
      rank = 3
      if ($0 ~ /^test\/e2e\// || $0 ~ /run-job\.test\.ts$/) rank = 2
      if ($0 ~ /\/(init-layouts|docs-examples)\.test\.ts$/) rank = 1
      if ($0 ~ /\/real-projects\.test\.ts$/) rank = 0
      print rank "\t" $0
    }' |
    sort -s -t$'\t' -k1,1 | cut -f2
)
if [ $# -gt 0 ]; then files=("$@"); fi

if [ $# -eq 0 ]; then
  # Node 24 as well as the machine's Node: the unit tests and the Lambda bundle's test.
  # run-job-fake.test.ts is left out: it opens the embedded store, and node_modules holds
  # better-sqlite3's binary for the machine's Node only (another ABI). They run one file at
  # a time beside the files below: quick work that fits in the minutes the first (end-to-end)
  # files spend waiting on downloads and Docker. Their report follows.
  node24="$(bash scripts/node24.sh)"
  mapfile -t node24_files < <(
    find test/unit -name '*.test.ts' ! -name run-job-fake.test.ts | sort
    echo test/e2e/lambda-bundle.test.ts
  )
  timeout --kill-after=30 3000 "$node24" "${node_test[@]}" --test-concurrency=1 \
    "${node24_files[@]}" >test-node24.log 2>&1 &
  node24_pid=$!
fi

echo "== ${#files[@]} test files (set-up took ${SECONDS} s)"
tests_started=$SECONDS
passed=true
status=0
timeout --kill-after=30 3000 node "${node_test[@]}" --test-concurrency=2 "${files[@]}" 2>&1 |
  tee test-files.log || status=$?
if [ "$status" -eq 124 ]; then echo "the test files ran past 50 minutes and were stopped" >&2; fi
[ "$status" -eq 0 ] || passed=false
echo "== the test files took $((SECONDS - tests_started)) s"

if [ -n "${node24_pid:-}" ]; then
  echo "== ${#node24_files[@]} test files on Node $("$node24" --version)"
  wait "$node24_pid" || passed=false
  cat test-node24.log
fi
# The failures once more, last: the Node 24 report above would otherwise push them out of
# the part of a long CI log a reader sees first.
if ! $passed; then
  echo "== what failed"
  sed -n '/^✖ failing tests:/,$p' test-files.log
  grep -A40 '^✖ failing tests:' test-node24.log 2>/dev/null || true
fi
echo "== build, checks and tests took ${SECONDS} s"
$passed
