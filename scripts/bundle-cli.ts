/**
 * The `kozmic` command as a few ES module files (esbuild, one chunk per lazily loaded part),
 * written to dist/cli/ and run by bin/kozmic.js. Node spends most of a short command's
 * start resolving, reading and compiling hundreds of small module files (zod alone is over
 * a hundred); a bundle is a handful, which halves the time before `kozmic run` first
 * talks to Docker. Left outside the bundle: better-sqlite3 (a native module, loaded by
 * path) and dockerode with docker-modem, whose unused SSH and gRPC transports
 * runner/engine/dockerode.ts keeps from loading by their files' paths.
 * Usage: tsx scripts/bundle-cli.ts [<out dir>]   (scripts/build.sh runs it)
 */
import { build } from "esbuild";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inlineAssets, REQUIRE_SHIM } from "./bundle-lambda.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The oldest Node.js Kozmic runs on (package.json engines). */
const TARGET = "node20";

export const CLI_EXTERNALS = ["better-sqlite3", "dockerode", "docker-modem"];

/** Writes `outDir`/main.js and its chunks. */
export async function bundleCli(outDir: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, "src/cli/main.ts")],
    outdir: outDir,
    bundle: true,
    splitting: true,
    platform: "node",
    target: TARGET,
    format: "esm",
    mainFields: ["module", "main"],
    external: CLI_EXTERNALS,
    banner: { js: REQUIRE_SHIM },
    plugins: [inlineAssets],
    logLevel: "error",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await bundleCli(resolve(process.argv[2] ?? join(ROOT, "dist/cli")));
}
