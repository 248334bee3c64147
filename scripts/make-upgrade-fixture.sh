#!/usr/bin/env bash
# Makes the upgrade fixture of a release: what the code at REF (default: the newest tag,
# else HEAD) leaves in kozmic.db, .kozmic/.env, the queues and a DynamoDB table, written by
# that code itself, into test/fixtures/upgrade/<short sha>/. Run it for each release and
# commit the directory: test/integration/upgrade-compat.test.ts opens every fixture there
# with the current code. Needs DynamoDB Local (started here when AWS_ENDPOINT_URL_DYNAMODB
# is unset). Usage: scripts/make-upgrade-fixture.sh [REF]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ref=${1:-$(git describe --tags --abbrev=0 2>/dev/null || echo HEAD)}
sha=$(git rev-parse --verify "$ref^{commit}")
out="test/fixtures/upgrade/${sha:0:12}"

checkout=$(mktemp -d "${TMPDIR:-/tmp}/kozmic-upgrade-ref-XXXXXX")
cleanup() {
  git -C "$root" worktree remove --force "$checkout" 2>/dev/null || rm -rf "$checkout"
  if [ -n "${started_services:-}" ]; then stop_services; fi
}
trap cleanup EXIT
git worktree add --quiet --detach "$checkout" "$sha"
# The release's code with this checkout's packages (its own lockfile may differ; the
# store and queue code only needs better-sqlite3, zod and the AWS SDK).
ln -s "$root/node_modules" "$checkout/node_modules"

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  # shellcheck source=../test/support/services.sh
  source test/support/services.sh
  start_services
  started_services=1
fi

rm -rf "$out"
node --import tsx scripts/write-upgrade-fixture.ts --source "$checkout" --out "$out" --ref "$ref"
echo "upgrade fixture of $ref ($sha) in $out:"
du -ab "$out" | sort -k2
