import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * One local image that stands in for the official language images `kozmic init` names
 * (python, node, golang, rust, ruby, maven, composer, php...): tests `docker tag` it with those
 * names, since no container registry is reachable here. Runs as root with no `kozmic` user, as
 * the official images do.
 */
export const STAND_IN_IMAGE = "kozmic-test/stand-in:trixie";

const CACHE_DIR = "/var/cache/kozmic-test";
const BUILD_SH = fileURLToPath(new URL("./stand-in/build.sh", import.meta.url));
const INSTALL_SH = fileURLToPath(new URL("./stand-in/install.sh", import.meta.url));
const LOCK = join(CACHE_DIR, "stand-in-trixie.lock");
const BUILD_LOG = join(CACHE_DIR, "stand-in-trixie.log");
const RECIPE_LABEL = "kozmic.stand-in.recipe";
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

// Debian's required packages and apt: unpacked without their maintainer scripts.
const BASE_PACKAGES = [
  "apt",
  "base-files",
  "base-passwd",
  "bash",
  "bsdutils",
  "coreutils",
  "dash",
  "debconf",
  "debian-archive-keyring",
  "debianutils",
  "diffutils",
  "dpkg",
  "findutils",
  "grep",
  "gzip",
  "hostname",
  "init-system-helpers",
  "libc-bin",
  "login",
  "login.defs",
  "mawk",
  "mount",
  "ncurses-base",
  "ncurses-bin",
  "passwd",
  "perl-base",
  "sed",
  "sysvinit-utils",
  "tar",
  "usr-is-merged",
  "util-linux",
];

// Installed by apt in a container, so their maintainer scripts run. Node.js and pip come from PyPI.
const PACKAGES = [
  ...["netbase", "tzdata", "procps", "less", "xz-utils", "zip", "unzip", "bzip2", "curl", "wget"],
  ...["git", "openssh-client", "gnupg", "make", "gcc", "g++", "libc6-dev", "build-essential"],
  // For the docs' examples, written for CI images that have sudo.
  "sudo",
  ...["pkgconf", "libssl-dev", "libffi-dev", "zlib1g-dev"],
  ...["python3", "python3-venv", "python3-dev", "python-is-python3"],
  "golang-1.24-go",
  ...["rustc", "cargo", "rustfmt", "rust-clippy"],
  ...["ruby", "ruby-dev", "bundler"],
  ...["openjdk-21-jdk-headless", "ca-certificates-java", "maven"],
  ...["php8.4-cli", "php8.4-mbstring", "php8.4-xml", "php8.4-curl", "php8.4-zip", "php8.4-sqlite3"],
  ...["php8.4-intl", "php8.4-bcmath", "composer"],
];

/** The registry the host's npm is configured with. */
function npmRegistry(): string {
  return execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" })
    .trim()
    .replace(/\/$/, "");
}

// As the official images set them, plus where each client finds the CA bundle (which holds the
// host's CAs) and corepack settings for registries that mirror npm without its signatures.
const ENV = [
  "LANG=C.UTF-8",
  "PATH=/usr/local/cargo/bin:/usr/local/bundle/bin:/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  `SSL_CERT_FILE=${CA_BUNDLE}`,
  `NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
  `CARGO_HTTP_CAINFO=${CA_BUNDLE}`,
  `GIT_SSL_CAINFO=${CA_BUNDLE}`,
  // Poetry and Pipenv download through requests, which reads certifi's bundle otherwise.
  `REQUESTS_CA_BUNDLE=${CA_BUNDLE}`,
  "GOPATH=/go",
  // The official image says local; auto lets the one Go stand in for newer ones (go.mod's `go` line).
  "GOTOOLCHAIN=auto",
  "CARGO_HOME=/usr/local/cargo",
  "GEM_HOME=/usr/local/bundle",
  "BUNDLE_APP_CONFIG=/usr/local/bundle",
  "BUNDLE_SILENCE_ROOT_WARNING=1",
  "JAVA_HOME=/opt/java/openjdk",
  "MAVEN_HOME=/usr/share/maven",
  // Corepack otherwise fetches Yarn 2+ from Yarn's own site, not the npm registry npm uses here.
  `COREPACK_NPM_REGISTRY=${npmRegistry()}`,
  // Corepack's check of the npm registry's signatures; the check's own message misnames this.
  "COREPACK_INTEGRITY_KEYS=0",
];

const RECIPE = createHash("sha256")
  .update(readFileSync(BUILD_SH))
  .update(readFileSync(INSTALL_SH))
  .update(JSON.stringify([BASE_PACKAGES, PACKAGES, ENV]))
  .digest("hex")
  .slice(0, 12);
const TARBALL = join(CACHE_DIR, `stand-in-trixie-${RECIPE}.tar`);

// Under flock: rechecks, since another process may have imported it while this one waited.
const IMPORT = `
set -eu
image=$1 recipe=$2 tarball=$3
shift 3
current=$(docker image inspect -f '{{index .Config.Labels "${RECIPE_LABEL}"}}' "$image" 2>/dev/null || true)
if [ "$current" != "$recipe" ]; then
  set -- "$@" --change 'CMD ["/bin/bash"]' --change "LABEL ${RECIPE_LABEL}=$recipe"
  docker import "$@" "$tarball" "$image" >/dev/null
fi
docker image inspect -f '{{.Id}}' "$image"
`;

/**
 * Builds (once per machine, about three minutes, kept as a tarball in /var/cache/kozmic-test) and
 * imports (once per engine) {@link STAND_IN_IMAGE}: Debian trixie with Python 3.13, Node.js 22,
 * Go 1.24, Rust 1.85, Ruby 3.3, Java 21 with Maven, and PHP 8.4 with Composer. Returns its ID.
 * Serialised with flock so parallel test processes build it only once.
 */
export function ensureStandInImage(options: { dockerHost?: string } = {}): string {
  const env = options.dockerHost
    ? { ...process.env, DOCKER_HOST: options.dockerHost }
    : process.env;
  const existing = currentImageId(env);
  if (existing) return existing;
  mkdirSync(CACHE_DIR, { recursive: true });
  if (!existsSync(TARBALL)) buildTarball(env);
  const changes = ENV.flatMap((variable) => ["--change", `ENV ${variable}`]);
  return execFileSync(
    "flock",
    [LOCK, "sh", "-c", IMPORT, "sh", STAND_IN_IMAGE, RECIPE, TARBALL, ...changes],
    { encoding: "utf8", env },
  ).trim();
}

function buildTarball(env: NodeJS.ProcessEnv): void {
  const caBundle = process.env.SSL_CERT_FILE ?? CA_BUNDLE;
  try {
    execFileSync(
      "flock",
      [LOCK, "sh", BUILD_SH, TARBALL, BUILD_LOG, caBundle, INSTALL_SH, ...BASE_PACKAGES],
      { env: { ...env, STAND_IN_PACKAGES: PACKAGES.join(" ") }, stdio: "ignore" },
    );
  } catch {
    throw new Error(
      `building the stand-in image's root filesystem (Debian trixie and toolchains) failed; ` +
        `last lines of ${BUILD_LOG}:\n${logTail(BUILD_LOG)}`,
    );
  }
}

function currentImageId(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const [id, recipe] = execFileSync(
      "docker",
      [
        "image",
        "inspect",
        "-f",
        `{{.Id}} {{index .Config.Labels "${RECIPE_LABEL}"}}`,
        STAND_IN_IMAGE,
      ],
      { encoding: "utf8", env, stdio: ["ignore", "pipe", "ignore"] },
    )
      .trim()
      .split(" ");
    return recipe === RECIPE ? id : undefined;
  } catch {
    return undefined;
  }
}

function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
