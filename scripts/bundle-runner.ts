/**
 * The runner hosts' software as one tarball, which the CDK stack uploads as an asset and
 * the hosts' boot script checks by its sha256 and unpacks into /opt/kozmic:
 *   bin/kozmic.js, dist/cli/   the bundled CLI (scripts/bundle-cli.ts)
 *   node_modules/              the native module the bundle leaves outside (better-sqlite3)
 *                              and what it requires at run time, nothing else
 *   node/bin/node              the Node.js that built it: the native module's ABI is its
 * Production code only: no dev dependency, no TypeScript, no npm on the host. The tarball
 * is the same bytes for the same checkout (sorted names, fixed times and owners, gzip
 * without a time stamp), so an unchanged runner is not a new asset, nor new hosts.
 * It runs on hosts of the building machine's OS and architecture (Linux; its name says
 * which), as the boot script checks.
 * Usage: tsx scripts/bundle-runner.ts [<out dir>]   (npm run bundle runs it)
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MACHINE, runnerArtifactName } from "../infra/lib/runner-artifact.js";
import { bundleCli } from "./bundle-cli.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Packages the bundle loads from node_modules at run time (bundle-cli.ts's externals). */
const NATIVE_PACKAGES = ["better-sqlite3"];

/** What of better-sqlite3 its `require` reaches: its JavaScript and the one compiled binary. */
const PACKAGE_FILES: Record<string, string[]> = {
  "better-sqlite3": ["package.json", "LICENSE", "lib", "build/Release/better_sqlite3.node"],
};

export interface RunnerArtifact {
  file: string;
  sha256: string;
  bytes: number;
}

/** A package and the run-time dependencies it names, each once. */
function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const manifest = JSON.parse(
      readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8"),
    ) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      // prebuild-install fetches a binary at `npm install` time; the binary is already here.
      if (dependency !== "prebuild-install") visit(dependency);
    }
  };
  for (const name of names) visit(name);
  return [...seen].sort();
}

/**
 * Writes `outDir`/kozmic-runner-linux-<arch>.tar.gz and returns its sha256. `gzipLevel`
 * (default 9, the smallest asset) is for tests, which want what the artifact holds, not its
 * size: 9 takes over 10 s on the Node.js binary, 1 under 2.
 */
export async function bundleRunner(
  outDir: string,
  options: { gzipLevel?: number } = {},
): Promise<RunnerArtifact> {
  if (process.platform !== "linux" || !MACHINE[process.arch]) {
    throw new Error(
      `the runner artifact holds this machine's Node.js and native modules, so it is built on Linux x64 or arm64 like the hosts (this is ${process.platform} ${process.arch}): build it in a Linux container`,
    );
  }
  const stage = mkdtempSync(join(tmpdir(), "kozmic-runner-artifact-"));
  try {
    await bundleCli(join(stage, "dist", "cli"));
    for (const file of ["bin/kozmic.js", "bin/package.json"]) {
      mkdirSync(dirname(join(stage, file)), { recursive: true });
      cpSync(join(ROOT, file), join(stage, file));
    }
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      name: string;
      version: string;
    };
    writeFileSync(
      join(stage, "package.json"),
      `${JSON.stringify({ name: manifest.name, version: manifest.version, private: true, type: "module" }, null, 2)}\n`,
    );
    for (const name of dependencyClosure(NATIVE_PACKAGES)) {
      for (const part of PACKAGE_FILES[name] ?? ["."]) {
        cpSync(join(ROOT, "node_modules", name, part), join(stage, "node_modules", name, part), {
          recursive: true,
        });
      }
    }
    mkdirSync(join(stage, "node", "bin"), { recursive: true });
    cpSync(process.execPath, join(stage, "node", "bin", "node"));
    writeFileSync(
      join(stage, "KOZMIC_RUNNER"),
      `node ${process.version}\nmachine ${MACHINE[process.arch]}\n`,
    );

    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, runnerArtifactName(process.arch));
    const tar = execFileSync(
      "tar",
      [
        "--sort=name",
        "--mtime=@0",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mode=u+rwX,go+rX,go-w",
        "-C",
        stage,
        "-cf",
        "-",
        ".",
      ],
      { maxBuffer: 1024 * 1024 * 1024 },
    );
    const gzipped = execFileSync("gzip", ["-n", `-${options.gzipLevel ?? 9}`], {
      input: tar,
      maxBuffer: 1024 * 1024 * 1024,
    });
    writeFileSync(file, gzipped);
    const sha256 = createHash("sha256").update(gzipped).digest("hex");
    return { file, sha256, bytes: gzipped.length };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { file, sha256, bytes } = await bundleRunner(
    resolve(process.argv[2] ?? join(ROOT, "dist/runner")),
  );
  console.log(
    `bundle: ${relative(process.cwd(), file)} (${(bytes / 1024 / 1024).toFixed(1)} MB, sha256 ${sha256})`,
  );
}
