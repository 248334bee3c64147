/**
 * The `kozmic` command as a few ES module files (esbuild, one chunk per lazily loaded part),
 * written to dist/cli/ and run by bin/kozmic.js. Node spends most of a short command's
 * start resolving, reading and compiling hundreds of small module files (zod alone is over
 * a hundred); a bundle is a handful. Left outside: native modules (better-sqlite3, loaded
 * by path, and ssh2's optional ones), found in node_modules at run time.
 * Usage: tsx scripts/bundle-cli.ts [<out dir>]   (scripts/build.sh runs it)
 */
import { build, type Plugin } from "esbuild";
import { join, relative, resolve } from "node:path";
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

/**
 * Docker transports a local socket never uses, required at the top of dockerode's modules:
 * docker-modem's SSH agent (ssh2, with its crypto) and dockerode's BuildKit session (gRPC,
 * protobufjs), two thirds of the code `kozmic run` would otherwise load and run at start.
 * Each module exports one function; in its place goes a function that requires the module
 * (still bundled) on its first call, so an ssh:// DOCKER_HOST works as before.
 */
const LAZY_MODULES: { importer: RegExp; path: string }[] = [
  { importer: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/, path: "./ssh" },
  { importer: /[\\/]dockerode[\\/]lib[\\/]docker\.js$/, path: "./session" },
];

const lazyTransports: Plugin = {
  name: "kozmic-lazy-transports",
  setup(b) {
    b.onResolve({ filter: /^\.\/(ssh|session)$/ }, (args) => {
      if (!LAZY_MODULES.some((m) => m.path === args.path && m.importer.test(args.importer))) {
        return undefined;
      }
      // Relative to the checkout: the bundle's bytes do not depend on where it was built.
      const path = relative(ROOT, join(args.resolveDir, `${args.path}.js`));
      return { path, namespace: "kozmic-lazy" };
    });
    b.onLoad({ filter: /.*/, namespace: "kozmic-lazy" }, (args) => ({
      contents:
        "let loaded;\n" +
        "module.exports = function (...args) {\n" +
        `  loaded ??= require(${JSON.stringify(`./${args.path}`)});\n` +
        "  return loaded.apply(this, args);\n" +
        "};\n",
      loader: "js",
      resolveDir: ROOT,
    }));
  },
};

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
    plugins: [inlineAssets, lazyTransports],
    absWorkingDir: ROOT,
    logLevel: "error",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await bundleCli(resolve(process.argv[2] ?? join(ROOT, "dist/cli")));
}
