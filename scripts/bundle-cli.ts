/**
 * The `kozmic` command as a few ES module files (esbuild, one chunk per lazily loaded part),
 * written to dist/cli/ and run by bin/kozmic.js. Node spends most of a short command's
 * start resolving, reading and compiling hundreds of small module files (zod alone is over
 * a hundred); a bundle is a handful. `kozmic run`'s work (src/cli/run-hooks.ts, what the
 * command loads once its arguments are read) is one file of its own, dist/cli/run-hooks.js,
 * not fifty shared chunks: Node loads one module much sooner than fifty of the same size.
 * Left outside: native modules (better-sqlite3, loaded by path, and ssh2's optional ones),
 * found in node_modules at run time.
 * Usage: tsx scripts/bundle-cli.ts [<out dir>]   (scripts/build.sh runs it)
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import { dirname, join, resolve } from "node:path";
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
 * Docker transports a local socket never uses: docker-modem's SSH agent (ssh2, with its
 * crypto) and dockerode's BuildKit session and build progress (gRPC, protobufjs), two
 * thirds of the code `kozmic run` would otherwise load at start. Each is bundled into a
 * CommonJS file of its own beside the chunks and required from there when first used, so
 * an ssh:// DOCKER_HOST works as before. ssh.js and session.js are required at the top of
 * their importers and export one function: in their place goes a function that requires
 * the file on its first call. buildkit.js is required inside the function that uses it.
 */
const LAZY_MODULES = [
  { path: "./ssh", importer: "docker-modem/lib/modem.js", file: "docker-ssh", wrap: true },
  { path: "./session", importer: "dockerode/lib/docker.js", file: "docker-session", wrap: true },
  { path: "./buildkit", importer: "dockerode/lib/docker.js", file: "docker-buildkit", wrap: false },
];

const lazyTransports: Plugin = {
  name: "kozmic-lazy-transports",
  setup(b) {
    b.onResolve({ filter: /^\.\/(ssh|session|buildkit)$/ }, (args) => {
      const lazy = LAZY_MODULES.find(
        (m) => m.path === args.path && args.importer.endsWith(join("node_modules", m.importer)),
      );
      if (!lazy) return undefined;
      // Found beside the chunk at run time (the banner's require is the chunk's own).
      if (!lazy.wrap) return { path: `./${lazy.file}.cjs`, external: true };
      return { path: lazy.file, namespace: "kozmic-lazy" };
    });
    b.onLoad({ filter: /.*/, namespace: "kozmic-lazy" }, (args) => ({
      contents:
        "let loaded;\n" +
        "module.exports = function (...args) {\n" +
        `  loaded ??= require("./${args.path}.cjs");\n` +
        "  return loaded.apply(this, args);\n" +
        "};\n",
      loader: "js",
    }));
    b.onResolve({ filter: /^\.\/docker-(ssh|session)\.cjs$/ }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

/**
 * `kozmic run`'s work, bundled as a file of its own (dist/cli/run-hooks.js) with everything it
 * imports (shared with the chunks, so a copy of it): run.ts's import of it is left to Node,
 * which finds the file beside run.ts's chunk.
 */
const RUN_HOOKS = join(ROOT, "src/cli/run-hooks.ts");

const runHooksFile: Plugin = {
  name: "kozmic-run-hooks-file",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/run-hooks\.js$/ }, (args) =>
      args.importer === join(ROOT, "src/cli/commands/run.ts")
        ? { path: "./run-hooks.js", external: true }
        : undefined,
    );
  },
};

/** The module each lazily required file holds. */
const lazyModulePath = (m: (typeof LAZY_MODULES)[number]) =>
  join(ROOT, "node_modules", dirname(m.importer), `${m.path}.js`);

/**
 * Writes `outDir`/main.js, the chunks its commands load, run-hooks.js and the lazily
 * required files.
 */
export async function bundleCli(outDir: string): Promise<void> {
  const common: BuildOptions = {
    bundle: true,
    platform: "node",
    // The oldest Node.js Kozmic runs on (package.json engines).
    target: "node20",
    mainFields: ["module", "main"],
    external: ["better-sqlite3", "cpu-features", "*.node"],
    absWorkingDir: ROOT,
    logLevel: "error",
  };
  await build({
    ...common,
    entryPoints: [join(ROOT, "src/cli/main.ts")],
    outdir: outDir,
    splitting: true,
    format: "esm",
    banner: { js: BANNER },
    plugins: [inlineAssets, lazyTransports, runHooksFile],
  });
  await build({
    ...common,
    entryPoints: { "run-hooks": RUN_HOOKS },
    outdir: outDir,
    format: "esm",
    banner: { js: BANNER },
    plugins: [inlineAssets, lazyTransports],
  });
  await build({
    ...common,
    entryPoints: Object.fromEntries(LAZY_MODULES.map((m) => [m.file, lazyModulePath(m)])),
    outdir: outDir,
    format: "cjs",
    outExtension: { ".js": ".cjs" },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await bundleCli(resolve(process.argv[2] ?? join(ROOT, "dist/cli")));
}
