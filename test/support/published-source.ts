import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/**
 * A public project as its registry publishes it, with its tests: a PyPI sdist, an npm
 * tarball, a Go module, a crate, or a Maven source-release zip. Named by package and
 * version; the archive is fetched by the registry's own client (or through the index that
 * client is configured with) and checked against its sha256.
 */
export interface PublishedProject {
  name: string;
  registry: "pypi" | "npm" | "go" | "crates" | "maven";
  package: string;
  version: string;
  sha256: string;
  /** The project's directory inside the archive. */
  root: string;
}

const run = (
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) =>
  execFileSync(command, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
  }).trim();

/** The simple index pip is configured with, else pip's own default. */
function pipIndex(): string {
  try {
    return run("python3", ["-m", "pip", "config", "get", "global.index-url"]);
  } catch {
    return run("python3", [
      "-c",
      "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
    ]);
  }
}

async function pypiSdist(project: PublishedProject, dir: string): Promise<string> {
  const file = join(dir, `${project.root}.tar.gz`);
  if (existsSync(file)) return file;
  const page = new URL(`${pipIndex().replace(/\/$/, "")}/${project.package}/`);
  const html = await (await fetch(page)).text();
  const href = [...html.matchAll(/href="([^"]+)"/g)]
    .map((m) => m[1]!.replace(/&amp;/g, "&"))
    .find((h) => h.split("#")[0]!.endsWith(`/${project.root}.tar.gz`));
  if (!href) throw new Error(`${page} lists no ${project.root}.tar.gz`);
  const response = await fetch(new URL(href, page));
  if (!response.ok) throw new Error(`${project.root}.tar.gz: HTTP ${response.status}`);
  writeFileSync(`${file}.part`, Buffer.from(await response.arrayBuffer()));
  renameSync(`${file}.part`, file);
  return file;
}

function npmTarball(project: PublishedProject, dir: string): string {
  const name = run("npm", ["pack", `${project.package}@${project.version}`, "--silent"], {
    cwd: dir,
  });
  return join(dir, name.split("\n").pop()!);
}

function goModule(project: PublishedProject, dir: string): string {
  const env = { ...process.env, GOMODCACHE: join(dir, "gomod"), GOFLAGS: "-modcacherw" };
  const info = JSON.parse(
    run("go", ["mod", "download", "-json", `${project.package}@${project.version}`], { env }),
  );
  return info.Zip as string;
}

function crate(project: PublishedProject, dir: string): string {
  const home = join(dir, "cargo");
  const app = join(dir, `fetch-${project.package}`);
  mkdirSync(join(app, "src"), { recursive: true });
  writeFileSync(
    join(app, "Cargo.toml"),
    `[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n${project.package} = "=${project.version}"\n`,
  );
  writeFileSync(join(app, "src/lib.rs"), "");
  run("cargo", ["fetch"], { cwd: app, env: { ...process.env, CARGO_HOME: home } });
  const caches = join(home, "registry/cache");
  for (const index of readdirSync(caches)) {
    const file = join(caches, index, `${project.root}.crate`);
    if (existsSync(file)) return file;
  }
  throw new Error(`cargo fetched no ${project.root}.crate`);
}

function mavenSourceRelease(project: PublishedProject, dir: string): string {
  const [group, artifact] = project.package.split(":");
  run("mvn", [
    "-q",
    "-B",
    "dependency:copy",
    `-Dartifact=${group}:${artifact}:${project.version}:zip:source-release`,
    `-DoutputDirectory=${dir}`,
  ]);
  return join(dir, `${artifact}-${project.version}-source-release.zip`);
}

/** Fetches (once, kept in `cache`), checks and unpacks the project; returns its directory. */
export async function unpackPublishedSource(
  project: PublishedProject,
  cache: string,
  into: string,
): Promise<string> {
  const dir = join(cache, project.registry);
  mkdirSync(dir, { recursive: true });
  const archive =
    project.registry === "pypi"
      ? await pypiSdist(project, dir)
      : project.registry === "npm"
        ? npmTarball(project, dir)
        : project.registry === "go"
          ? goModule(project, dir)
          : project.registry === "crates"
            ? crate(project, dir)
            : mavenSourceRelease(project, dir);
  const digest = createHash("sha256").update(readFileSync(archive)).digest("hex");
  if (digest !== project.sha256)
    throw new Error(`${archive} has sha256 ${digest}, not the ${project.sha256} the list names`);
  mkdirSync(into, { recursive: true });
  if (readFileSync(archive).subarray(0, 2).toString("latin1") === "PK")
    execFileSync("unzip", ["-q", "-o", archive, "-d", into]);
  else execFileSync("tar", ["-xzf", archive, "-C", into]);
  return join(into, project.root);
}
