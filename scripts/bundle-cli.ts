/**
 * The `kozmic` command as a few ES module files (esbuild, one chunk per lazily loaded part),
 * written to dist/cli/ and run by bin/kozmic.js. Node spends most of a short command's
 * start resolving, reading and compiling hundreds of small module files (zod alone is over
 * a hundred); a bundle is a handful. Left outside: native modules (better-sqlite3, loaded
 * by path, and ssh2's optional ones), found in node_modules at run time.
 * Usage: tsx scripts/bundle-cli.ts [<out dir>]   (scripts/build.sh runs it)
 */
import { build } from "esbuild";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inlineAssets, REQUIRE_SHIM } from "./bundle-lambda.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * What the CommonJS packages inside the bundle (dockerode and what it requires) expect of
 * their module scope. Their __dirname is dist/cli/: ssh2 then finds no native crypto binding
 * beside it and uses its JavaScript one; dockerode's BuildKit sessions, which would read
 * .proto files there, are something Kozmic never asks for.
 */
const BANNER = [
  REQUIRE_SHIM,
  "const __filename = import.meta.filename;",
  "const __dirname = import.meta.dirname;",
].join("\n");

/** Writes `outDir`/main.js and the chunks its commands load. */
export async function bundleCli(outDir: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, "src/cli/main.ts")],
    outdir: outDir,
    bundle: true,
    splitting: true,
    platform: "node",
    // The oldest Node.js Kozmic runs on (package.json engines).
    target: "node20",
    format: "esm",
    mainFields: ["module", "main"],
    external: ["better-sqlite3", "cpu-features", "*.node"],
    banner: { js: BANNER },
    plugins: [inlineAssets],
    absWorkingDir: ROOT,
    logLevel: "error",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await bundleCli(resolve(process.argv[2] ?? join(ROOT, "dist/cli")));
}
