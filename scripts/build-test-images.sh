#!/usr/bin/env bash
# Builds the test images that are slow to make (the Debian sudo image, made from Debian's
# packages, and MariaDB from Debian's packages on it) ahead of the tests, so the first test
# needing one doesn't spend minutes on it. Safe to run again; quick when done. Imports into
# the engine at DOCKER_HOST, or the default one.
# With --stand-in it builds only the stand-in for the official language images (about 2 GB, a
# few minutes; see test/support/stand-in-image.ts), which the real-project tests run on.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != --stand-in ]; then
node --import tsx --input-type=module -e '
  const { ensureDebianSudoImage, DEBIAN_SUDO_IMAGE } = await import("./test/support/debian-image.ts");
  const started = Date.now();
  const id = ensureDebianSudoImage({ dockerHost: process.env.DOCKER_HOST });
  console.log(`${DEBIAN_SUDO_IMAGE} ${id} (${Date.now() - started} ms)`);
  const { ensureMariadbImage, MARIADB_IMAGE } = await import("./test/support/mariadb-image.ts");
  const mariadbStarted = Date.now();
  const mariadb = ensureMariadbImage({ dockerHost: process.env.DOCKER_HOST });
  console.log(`${MARIADB_IMAGE} ${mariadb} (${Date.now() - mariadbStarted} ms)`);
'
fi

if [ "${1:-}" = --stand-in ]; then
  node --import tsx --input-type=module -e '
    const { ensureStandInImage, STAND_IN_IMAGE } = await import("./test/support/stand-in-image.ts");
    const started = Date.now();
    const id = ensureStandInImage({ dockerHost: process.env.DOCKER_HOST });
    console.log(`${STAND_IN_IMAGE} ${id} (${Date.now() - started} ms)`);
  '
fi
