import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DEBIAN_SUDO_IMAGE, ensureDebianSudoImage } from "./debian-image.js";

/**
 * MariaDB from Debian bookworm's packages on the Debian sudo image: the stand-in for the
 * official `mariadb` image (nothing can be pulled here). Its command starts the server as
 * the official image does, with the same variables (MARIADB_ROOT_PASSWORD, MARIADB_DATABASE,
 * MARIADB_USER, MARIADB_PASSWORD); `mariadb` and `mysqladmin` are there for builds and health
 * checks.
 */
export const MARIADB_IMAGE = "kozmic-test/mariadb:bookworm";

const CACHE_DIR = "/var/cache/kozmic-test";
const DEBS = join(CACHE_DIR, "mariadb-bookworm-debs");
const LOCK = join(CACHE_DIR, "mariadb-bookworm.lock");

// Starts mariadbd in the foreground; the variables become an --init-file (one statement a
// line) run before it takes connections, so a health check that passes sees the users and
// database.
const ENTRYPOINT = String.raw`#!/bin/sh
set -eu
q() { printf "%s" "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g"; }
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
[ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
init=/run/mysqld/init.sql
: >"$init"
if [ -n "${"$"}{MARIADB_ROOT_PASSWORD:-}" ]; then
  echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$(q "$MARIADB_ROOT_PASSWORD")';" >>"$init"
  echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;" >>"$init"
fi
if [ -n "${"$"}{MARIADB_DATABASE:-}" ]; then
  echo "CREATE DATABASE IF NOT EXISTS \`$(q "$MARIADB_DATABASE")\`;" >>"$init"
fi
if [ -n "${"$"}{MARIADB_USER:-}" ]; then
  echo "CREATE USER IF NOT EXISTS '$(q "$MARIADB_USER")'@'%' IDENTIFIED BY '$(q "${"$"}{MARIADB_PASSWORD:-}")';" >>"$init"
  [ -n "${"$"}{MARIADB_DATABASE:-}" ] && echo "GRANT ALL ON \`$(q "$MARIADB_DATABASE")\`.* TO '$(q "$MARIADB_USER")'@'%';" >>"$init"
fi
chown mysql:mysql "$init"
exec mariadbd --user=mysql --bind-address=0.0.0.0 --skip-name-resolve --init-file="$init" "$@"
`;

// Runs under flock with $1 = the debs directory, $2 = the Debian image, $3 = the image to make.
// The image's dpkg status lacks the Provides of its packages (debian-image.ts writes a few
// fields): mawk's awk, which base-files pre-depends on, is added back.
// The packages are downloaded on this machine against the Debian image's own dpkg status (its
// containers here have no route out), then installed in a container without a network.
const BUILD = `
set -eu
debs=$1 base=$2 image=$3
PROVIDES='/^Package: mawk$/a Provides: awk'
docker image inspect "$image" >/dev/null 2>&1 && exit 0
if [ ! -f "$debs/done" ]; then
  work=$(mktemp -d /var/tmp/kozmic-mariadb.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  cid=$(docker create "$base" true)
  docker cp "$cid:/var/lib/dpkg/status" "$work/status"
  sed -i "$PROVIDES" "$work/status"
  docker rm "$cid" >/dev/null
  mkdir -p "$work/debs/partial"
  apt_get() {
    apt-get -q -o Dir::State::status="$work/status" -o Dir::Cache::archives="$work/debs" \\
      -o APT::Install-Recommends=false -o Debug::NoLocking=true "$@"
  }
  apt_get --download-only -y install mariadb-server mariadb-client \\
    || { apt-get -q update && apt_get --download-only -y install mariadb-server mariadb-client; }
  rm -rf "$debs" && mkdir -p "$debs"
  mv "$work"/debs/*.deb "$debs/"
  touch "$debs/done"
fi
name=kozmic-mariadb-build-$$
docker create --name "$name" --network none -u root "$base" sh -c '
  set -e
  sed -i "$1" /var/lib/dpkg/status
  printf "#!/bin/sh\\nexit 101\\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  # dpkg takes the files in name order: a second pass installs what waited on a pre-dependency.
  export DEBIAN_FRONTEND=noninteractive
  dpkg -i /tmp/debs/*.deb >/dev/null 2>&1 || dpkg -i /tmp/debs/*.deb
  rm -rf /tmp/debs /usr/sbin/policy-rc.d
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  chmod 755 /usr/local/bin/kozmic-mariadb' sh "$PROVIDES" >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker cp "$debs/." "$name:/tmp/debs"
docker cp "$4" "$name:/usr/local/bin/kozmic-mariadb"
docker start -a "$name"
docker commit --change 'CMD ["/usr/local/bin/kozmic-mariadb"]' --change 'USER root' "$name" "$image" >/dev/null
`;

/**
 * Builds the MariaDB image once per engine (the packages once per machine, kept in
 * /var/cache/kozmic-test); serialised with flock. Returns the image's ID.
 */
export function ensureMariadbImage(options: { dockerHost?: string } = {}): string {
  const env = options.dockerHost
    ? { ...process.env, DOCKER_HOST: options.dockerHost }
    : process.env;
  ensureDebianSudoImage(options);
  mkdirSync(CACHE_DIR, { recursive: true });
  const entrypoint = join(CACHE_DIR, "kozmic-mariadb-entrypoint");
  execFileSync("sh", ["-c", 'cat >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"', "sh", entrypoint], {
    input: ENTRYPOINT,
  });
  try {
    execFileSync(
      "flock",
      [LOCK, "sh", "-c", BUILD, "sh", DEBS, DEBIAN_SUDO_IMAGE, MARIADB_IMAGE, entrypoint],
      { env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 ** 2 },
    );
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    const tail = `${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`
      .split("\n")
      .slice(-30);
    throw new Error(`building ${MARIADB_IMAGE} from Debian's packages failed:\n${tail.join("\n")}`);
  }
  return execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", MARIADB_IMAGE], {
    encoding: "utf8",
    env,
  }).trim();
}
