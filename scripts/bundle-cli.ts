/**
 * The `kozmic` command as a few ES module files (esbuild, one chunk per lazily loaded part),
 * written to dist/cli/ and run by bin/kozmic.js. Node spends most of a short command's
 * start resolving, reading and compiling hundreds of small module files (zod alone is over
 * a hundred); a bundle is a handful, which halves the time before `kozmic run` first
 * talks to Docker. Left outside the bundle: better-sqlite3 (a native module, loaded by
 * path). dockerode and docker-modem are inside, without what a local Docker socket never
 * uses (bundleDockerode), and zod without its other languages (zodEnglishOnly).
 * Usage: tsx scripts/bundle-cli.ts [<out dir>]   (scripts/build.sh runs it)
 */
import { build, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inlineAssets, REQUIRE_SHIM } from "./bundle-lambda.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The oldest Node.js Kozmic runs on (package.json engines). */
const TARGET = "node20";

export const CLI_EXTERNALS = ["better-sqlite3"];

/** Where zod keeps its messages in every language, one file each, and their index. */
const ZOD_LOCALES = join(ROOT, "node_modules/zod/v4/locales");
const ZOD_EN_EXPORT = 'export { default as en } from "./en.js";';

/**
 * zod in English only. `z` re-exports zod's locales index as `z.locales`, a namespace that
 * esbuild cannot tree-shake, so every language (about half of zod's bytes in the bundle, a
 * third of `kozmic run`'s module compile time) would be loaded for none to be used: zod's
 * own messages are English (its schemas register locales/en.js themselves) and Kozmic never
 * calls `z.config(z.locales.…)`. The index resolves here to a module exporting `en` alone.
 * The build fails, rather than quietly bundling every language again or dropping English,
 * when zod's files are no longer laid out as this expects.
 */
export const zodEnglishOnly: Plugin = {
  name: "kozmic-zod-english-only",
  setup(b) {
    let stubbed = 0;
    b.onStart(() => {
      stubbed = 0;
      const index = join(ZOD_LOCALES, "index.js");
      const problem = !existsSync(index)
        ? `${relative(ROOT, index)} is missing`
        : !readFileSync(index, "utf8").split("\n").includes(ZOD_EN_EXPORT)
          ? `${relative(ROOT, index)} no longer holds \`${ZOD_EN_EXPORT}\``
          : undefined;
      return problem ? { errors: [{ text: zodLayoutChanged(problem) }] } : undefined;
    });
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (path !== join(ZOD_LOCALES, "index.js")) return undefined;
      stubbed++;
      return { path, namespace: "kozmic-zod-english-only" };
    });
    b.onLoad({ filter: /.*/, namespace: "kozmic-zod-english-only" }, () => ({
      contents: `${ZOD_EN_EXPORT}\n`,
      resolveDir: ZOD_LOCALES,
      loader: "js",
    }));
    b.onEnd((result) => {
      if (result.errors.length > 0 || !result.metafile) return undefined;
      const locales = Object.keys(result.metafile.inputs).filter(
        (input) =>
          dirname(resolve(ROOT, input)) === ZOD_LOCALES && !input.endsWith("/locales/en.js"),
      );
      const problem =
        stubbed === 0
          ? "nothing imported zod's locales index, which the CLI's zod is expected to"
          : locales.length > 0
            ? `the bundle holds other languages all the same: ${locales.join(", ")}`
            : !Object.keys(result.metafile.inputs).some((i) => i.endsWith("zod/v4/locales/en.js"))
              ? "the bundle no longer holds zod's English messages (locales/en.js)"
              : undefined;
      return problem ? { errors: [{ text: zodLayoutChanged(problem) }] } : undefined;
    });
  },
};

function zodLayoutChanged(problem: string): string {
  return (
    `kozmic-zod-english-only (scripts/bundle-cli.ts): ${problem}; zod's files changed, so ` +
    "the plugin that keeps zod's other languages out of the CLI bundle must change with them"
  );
}

const DOCKERODE_UTIL = /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]util\.js$/;

/**
 * Files of dockerode and docker-modem that stay in node_modules, by the path their package
 * requires them with. Their top-level requires are what a local socket never uses: ssh2 (an
 * `ssh://` DOCKER_HOST), @grpc/grpc-js, @grpc/proto-loader and protobufjs (BuildKit
 * sessions and progress, for `buildImage` with `version: "2"`); session.js and buildkit.js
 * also read .proto files beside them. runner/engine/dockerode.ts defers the same files in
 * the unbundled code, by putting stand-ins in the CommonJS module cache.
 * Also dockerode's lib/util.js's tar-fs, @balena/dockerignore and zlib, which only
 * `buildImage` uses: with what tar-fs requires, 10-15 ms of every start.
 * `function`: required at the top level; it exports one function, loaded on its first call.
 * `object`: required at the top level; it exports an object, loaded when a property is read.
 * `module`: required only inside the function that uses it, so loaded then as it is.
 */
const DOCKERODE_LEFT_OUT: Record<
  string,
  { importer: RegExp; file: string; as: "function" | "object" | "module" }
> = {
  "./ssh": {
    importer: /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    file: "docker-modem/lib/ssh.js",
    as: "function",
  },
  "./session": {
    importer: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    file: "dockerode/lib/session.js",
    as: "function",
  },
  "./buildkit": {
    importer: /[\\/]node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    file: "dockerode/lib/buildkit.js",
    as: "module",
  },
  "tar-fs": { importer: DOCKERODE_UTIL, file: "tar-fs", as: "object" },
  "@balena/dockerignore": {
    importer: DOCKERODE_UTIL,
    file: "@balena/dockerignore",
    as: "function",
  },
  zlib: { importer: DOCKERODE_UTIL, file: "zlib", as: "object" },
};

/**
 * dockerode and docker-modem inside the bundle (left outside, Node resolves, reads and
 * compiles some forty CommonJS files of theirs for every `kozmic run`), except the files in
 * DOCKERODE_LEFT_OUT: in their place, a module that loads the real file from node_modules
 * when it is first used (docker-modem's through dockerode's own resolution, wherever npm
 * put it). runner/engine/dockerode.ts is replaced here by a plain import of dockerode, its
 * deferral being done at build time. The build fails if a file named here is no longer
 * required where expected, or if any of ssh2, gRPC or protobufjs is bundled all the same.
 */
export const bundleDockerode: Plugin = {
  name: "kozmic-bundle-dockerode",
  setup(b) {
    const seen = new Set<string>();
    b.onStart(() => seen.clear());
    b.onLoad({ filter: /[\\/]runner[\\/]engine[\\/]dockerode\.ts$/ }, () => ({
      contents: 'import Docker from "dockerode";\nexport { Docker };\n',
      loader: "js",
    }));
    // Exactly the paths the table names (escaped for a regular expression).
    const names = Object.keys(DOCKERODE_LEFT_OUT).map((p) =>
      p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"),
    );
    b.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => {
      const left = DOCKERODE_LEFT_OUT[args.path];
      if (!left?.importer.test(args.importer)) return undefined;
      seen.add(args.path);
      return { path: left.file, namespace: "kozmic-dockerode-left-out" };
    });
    // What those modules require is found at run time, from node_modules.
    b.onResolve({ filter: /.*/, namespace: "kozmic-dockerode-left-out" }, (args) => ({
      path: args.path,
      external: true,
    }));
    b.onLoad({ filter: /.*/, namespace: "kozmic-dockerode-left-out" }, (args) => {
      const left = Object.values(DOCKERODE_LEFT_OUT).find((l) => l.file === args.path)!;
      // dockerode's own dependencies are found from dockerode, wherever npm put them.
      const load = args.path.startsWith("dockerode/")
        ? `require(${JSON.stringify(args.path)})`
        : `require("node:module").createRequire(require.resolve("dockerode"))(${JSON.stringify(args.path)})`;
      const contents =
        left.as === "module"
          ? `module.exports = ${load};\n`
          : left.as === "object"
            ? `var real;\nmodule.exports = new Proxy({}, {\n  get(_, key) {\n    real = real || ${load};\n    return real[key];\n  },\n});\n`
            : `var real;\nmodule.exports = function () {\n  real = real || ${load};\n  return real.apply(this, arguments);\n};\n`;
      return { contents, loader: "js" };
    });
    b.onEnd((result) => {
      if (result.errors.length > 0 || !result.metafile) return undefined;
      const missing = Object.keys(DOCKERODE_LEFT_OUT).filter((path) => !seen.has(path));
      const unwanted = Object.keys(result.metafile.inputs).filter((input) =>
        /(^|\/)node_modules\/(ssh2|cpu-features|@grpc\/[^/]+|protobufjs|tar-fs)\//.test(input),
      );
      const problem =
        missing.length > 0
          ? `dockerode no longer requires ${missing.join(", ")} where expected`
          : unwanted.length > 0
            ? `the bundle holds ${unwanted.slice(0, 3).join(", ")}${unwanted.length > 3 ? "…" : ""}`
            : undefined;
      if (!problem) return undefined;
      return {
        errors: [
          {
            text:
              `kozmic-bundle-dockerode (scripts/bundle-cli.ts): ${problem}; dockerode's files ` +
              "changed, so what the plugin leaves out of the CLI bundle must change with them",
          },
        ],
      };
    });
  },
};

const MODEM = /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/;
const MODEM_SENDING = "debug('Sending: %s', util.inspect(options, {";

/**
 * docker-modem formats every request's options with util.inspect for its debug log, whether
 * or not that log is on (DEBUG=modem): about 0.1 ms a request, 1 ms of each `kozmic run`'s
 * Docker work. In the bundle the formatting happens only when the log is on. The build
 * fails when docker-modem no longer holds that line, rather than quietly keeping the cost.
 */
export const quietModemDebug: Plugin = {
  name: "kozmic-quiet-modem-debug",
  setup(b) {
    b.onLoad({ filter: MODEM }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (source.split(MODEM_SENDING).length !== 2) {
        return {
          errors: [
            {
              text:
                `kozmic-quiet-modem-debug (scripts/bundle-cli.ts): ${relative(ROOT, args.path)} ` +
                `no longer holds \`${MODEM_SENDING}\` once; the plugin must change with it`,
            },
          ],
        };
      }
      return {
        contents: source.replace(MODEM_SENDING, `debug.enabled && ${MODEM_SENDING}`),
        loader: "js",
      };
    });
  },
};

/**
 * What the bundle is built from, as a hash: the TypeScript sources, the scripts that bundle
 * them and the locked dependencies. The code sees it as __KOZMIC_BUILD_ID__ (src/cli/build-id.ts), and what it
 * keeps between runs of one build (src/cli/parsed-cache.ts) is not read by another.
 */
export function sourceDigest(): string {
  const hash = createHash("sha256");
  const files = ["src", "runner"].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(ROOT, join(entry.parentPath, entry.name))),
  );
  // The bundling scripts too: a change to them changes the chunks a run loads lazily, and a
  // run server of the old build would look for chunks that are gone.
  const bundling = ["scripts/bundle-cli.ts", "scripts/bundle-lambda.ts", "tsconfig.json"];
  for (const file of [...files.sort(), ...bundling, "package-lock.json"]) {
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(ROOT, file)))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 32);
}

/**
 * Writes `outDir`/main.js and its chunks, and run-client.cjs: what bin/kozmic.js loads first
 * for `kozmic run`, to hand the run to a run server (src/cli/run-server/) if one is there.
 * That one is a single CommonJS file, as bin/kozmic.js is: a few ms sooner than modules.
 */
export async function bundleCli(outDir: string): Promise<void> {
  const buildId = JSON.stringify(sourceDigest());
  await build({
    entryPoints: [join(ROOT, "src/cli/run-server/client.ts")],
    outfile: join(outDir, "run-client.cjs"),
    bundle: true,
    platform: "node",
    target: TARGET,
    format: "cjs",
    define: { __KOZMIC_BUILD_ID__: buildId },
    absWorkingDir: ROOT,
    logLevel: "error",
  });
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
    define: { __KOZMIC_BUILD_ID__: buildId },
    plugins: [inlineAssets, zodEnglishOnly, bundleDockerode, quietModemDebug],
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: "error",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await bundleCli(resolve(process.argv[2] ?? join(ROOT, "dist/cli")));
}
