/**
 * The Lambda bundles: one ESM file per handler, made by esbuild from src/lambda.ts (the scaler's from src/scaler-lambda.ts), with
 * every dependency inside, the log pages' assets inlined and no native module, so Lambda's
 * Node.js runtime loads it as it is (infra/ deploys these paths):
 *   dist/lambda/webhook/index.mjs   exports `handler`: webhooks and log pages (function URL)
 *   dist/lambda/planner/index.mjs   exports `planHandler`: the planning queue's SQS handler
 *   dist/lambda/scaler/index.mjs    exports `scaleHandler`: sizes the runner hosts' group
 * Usage: npm run bundle [-- <out dir>]
 */
import { build, type Plugin } from "esbuild";
import { mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ASSET_TEXTS } from "../src/web/asset-texts.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Each bundle's directory under the output directory, and the export it holds. */
export const LAMBDA_BUNDLES = {
  webhook: "handler",
  planner: "planHandler",
  scaler: "scaleHandler",
} as const;

export type BundleName = keyof typeof LAMBDA_BUNDLES;

/** The module each bundle's handler comes from: the scaler's holds no Probot and no app. */
const ENTRY_MODULES: Record<BundleName, string> = {
  webhook: "./src/lambda.ts",
  planner: "./src/lambda.ts",
  scaler: "./src/scaler-lambda.ts",
};

/** Lambda's oldest Node.js runtime that Kozmic supports. */
const TARGET = "node22";

/**
 * Bundled CommonJS code calls `require` for Node's built-in modules; an ES module has none
 * of its own.
 */
export const REQUIRE_SHIM = [
  'import { createRequire as __kozmicCreateRequire } from "node:module";',
  "const require = __kozmicCreateRequire(import.meta.url);",
].join("\n");

/** src/web/asset-texts.ts reads the assets at load; in the bundle it holds them instead. */
export const inlineAssets: Plugin = {
  name: "kozmic-inline-assets",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]web[\\/]asset-texts\.ts$/ }, () => ({
      contents: `export const ASSET_TEXTS = ${JSON.stringify(ASSET_TEXTS)};\n`,
      loader: "js",
    }));
  },
};

/**
 * Fails the build on a native module (a .node file, or better-sqlite3 whose binary it loads
 * by path), naming the file that imports it: Lambda's machine could not load it.
 */
const refuseNativeModules: Plugin = {
  name: "kozmic-refuse-native-modules",
  setup(b) {
    b.onResolve({ filter: /(^better-sqlite3(\/|$))|(\.node$)/ }, (args) => ({
      errors: [
        {
          text: `${args.path} is a native module, which the Lambda bundle must not hold (imported by ${relative(ROOT, args.importer)}); the Lambda's import graph must not reach the embedded queue or store`,
        },
      ],
    }));
  },
};

export interface BundleResult {
  name: BundleName;
  file: string;
  bytes: number;
}

/** Writes every bundle under `outDir`/<name>/index.mjs. */
export async function bundleLambda(outDir: string): Promise<BundleResult[]> {
  return Promise.all(
    (Object.entries(LAMBDA_BUNDLES) as [BundleName, string][]).map(async ([name, exported]) => {
      const dir = join(outDir, name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "index.mjs");
      const result = await build({
        stdin: {
          contents: `export { ${exported} } from "${ENTRY_MODULES[name]}";\n`,
          resolveDir: ROOT,
          sourcefile: `lambda-${name}-entry.ts`,
          loader: "ts",
        },
        outfile: file,
        bundle: true,
        platform: "node",
        target: TARGET,
        format: "esm",
        // The AWS SDK's ES module builds, which esbuild can tree-shake.
        mainFields: ["module", "main"],
        banner: { js: REQUIRE_SHIM },
        plugins: [inlineAssets, refuseNativeModules],
        metafile: true,
        logLevel: "error",
      });
      return { name, file, bytes: Object.values(result.metafile.outputs)[0]?.bytes ?? 0 };
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? join(ROOT, "dist/lambda"));
  for (const { file, bytes } of await bundleLambda(outDir)) {
    console.log(
      `bundle: ${relative(process.cwd(), file)} (${(bytes / 1024 / 1024).toFixed(1)} MB)`,
    );
  }
}
