#!/usr/bin/env bash
# Bundles the CLI into dist/cli/, builds the example image from Debian's static busybox when it is
# missing, runs the example repository's hooks with `kozmic run` (a cache miss, and how to
# see a hit), then the whole system on this machine: `kozmic serve` on its embedded
# defaults taking a push from a local stand-in for GitHub, running the job and serving its
# log page.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=kozmic-example/busybox
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "quickstart: building $IMAGE from /bin/busybox"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,etc,tmp,opt,root,home/kozmic}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nkozmic:x:1000:1000:kozmic:/home/kozmic:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nkozmic:x:1000:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  # The install script runs as the kozmic user and installs under /opt.
  chown 1000:1000 "$root/opt" "$root/home/kozmic" 2>/dev/null || chmod 1777 "$root/opt"
  tar -C "$root" -c . | docker import - "$IMAGE" >/dev/null
fi

bash scripts/build.sh
echo "quickstart: kozmic run examples/hello"
./bin/kozmic.js run examples/hello
echo
echo "quickstart: the whole system on this machine (scripts/demo-single-box.ts)"
npx tsx scripts/demo-single-box.ts

cat <<'MSG'

quickstart: done. Next:
  ./bin/kozmic.js run examples/hello    # again: "install skipped: cache hit"
  echo "greeting-lib 2.0" > examples/hello/deps.txt && ./bin/kozmic.js run examples/hello
                                        # a tracked file changed: cache miss
  ./bin/kozmic.js cache ls              # the cached install images
  npm run demo                          # the whole system again; open the log page
MSG
